/**
 * The snapshot document (`snapshot --out FILE`), checked before anything of it is stored: the
 * file may come from another machine, and a document that does not have the shape is refused
 * with the field that is wrong, not half-loaded.
 */
import { z } from 'zod';
import { TrailhoundError, ExitCode } from '../core/errors.js';
import { RESOURCE_KINDS, SNAPSHOT_FORMAT, type SnapshotDocument } from './types.js';

const text = z.string().max(4096);
const instant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 time');
const nullable = <T extends z.ZodType>(t: T) => t.nullable();

const resourceSchema = z.object({
  kind: z.enum(RESOURCE_KINDS),
  region: nullable(text),
  id: text.min(1),
  arn: nullable(text),
  name: nullable(text),
  state: nullable(text),
  type: nullable(text),
  createdAt: nullable(instant),
  creator: nullable(text),
  tags: z.record(z.string(), z.string()),
  detail: z.record(z.string(), z.unknown()),
});

const documentSchema = z.object({
  format: z.literal(SNAPSHOT_FORMAT),
  version: z.literal(1),
  id: z.string().regex(/^[0-9A-Za-z.:_-]{1,100}$/, 'letters, digits and .:_- only'),
  takenAt: instant,
  finishedAt: instant,
  durationMs: z.number().nonnegative(),
  account: nullable(z.string().regex(/^\d{12}$/, 'a 12-digit account id')),
  callerArn: nullable(text),
  toolVersion: text,
  calls: z.number().int().nonnegative(),
  regions: z.array(z.object({ name: text.min(1), optInStatus: nullable(text), scanned: z.boolean() })),
  resources: z.array(resourceSchema),
  gaps: z.array(z.object({ service: text, region: nullable(text), call: text, reason: text })),
  credentialReport: nullable(z.array(z.record(z.string(), z.string()))),
});

/** A snapshot document that does not have the shape. */
export class SnapshotDocumentError extends TrailhoundError {
  constructor(message: string) {
    super('SNAPSHOT_DOCUMENT', message, ExitCode.usage);
  }
}

/** The document, checked; throws naming the first field that is wrong. */
export function parseSnapshotDocument(value: unknown, where: string): SnapshotDocument {
  const result = documentSchema.safeParse(value);
  if (result.success) return result.data as SnapshotDocument;
  const issue = result.error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  throw new SnapshotDocumentError(`${where}: not a trailhound snapshot document: ${path || 'the document'}: ${issue.message}; write it again with "trailhound snapshot --out FILE"`);
}
