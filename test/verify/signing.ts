import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { TrailObject } from '../../synth/layout.js';
import { stringToSign, type DigestContent } from '../../src/verify/digest-chain.js';

/** A test signing key, standing in for CloudTrail's regional key. */
export interface TestKey {
  readonly privateKey: KeyObject;
  /** DER (PKCS#1), as ListPublicKeys returns it. */
  readonly der: Buffer;
  readonly fingerprint: string;
}

/** Makes an RSA key pair (2048 bits). */
export function makeTestKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ format: 'der', type: 'pkcs1' });
  return { privateKey, der, fingerprint: createHash('md5').update(der).digest('hex') };
}

/** A signed trail object: the digest's signature goes in S3 object metadata. */
export interface SignedObject extends TrailObject {
  readonly metadata?: Record<string, string>;
}

/**
 * Re-signs the digests of a trail layout with `key`, in chain order: each digest gets the key's
 * fingerprint, its predecessor's real hash and signature, and a SHA256withRSA signature over
 * CloudTrail's string to sign.
 */
export function signDigests(objects: readonly TrailObject[], key: TestKey): SignedObject[] {
  const digests = objects
    .filter((o) => o.kind === 'digest')
    .map((o) => ({ object: o, content: JSON.parse(gunzipSync(o.body).toString('utf8')) as DigestContent & Record<string, unknown> }))
    .sort((a, b) => (a.content.digestEndTime < b.content.digestEndTime ? -1 : 1));
  const done = new Map<string, { sha256: string; signature: string }>();
  const out = new Map<string, SignedObject>();
  for (const { object, content } of digests) {
    const previous = content.previousDigestS3Object ? done.get(content.previousDigestS3Object) : undefined;
    const updated = {
      ...content,
      digestPublicKeyFingerprint: key.fingerprint,
      ...(content.previousDigestS3Object ? { previousDigestHashValue: previous!.sha256, previousDigestSignature: previous!.signature } : {}),
    };
    const json = Buffer.from(JSON.stringify(updated));
    const sha256 = createHash('sha256').update(json).digest('hex');
    const signature = sign('sha256', Buffer.from(stringToSign(updated, sha256)), key.privateKey).toString('hex');
    done.set(object.key, { sha256, signature });
    out.set(object.key, { ...object, body: gzipSync(json), sha256, metadata: { signature, 'signature-algorithm': 'SHA256withRSA' } });
  }
  return objects.map((o) => out.get(o.key) ?? o);
}
