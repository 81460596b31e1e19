import dns from 'node:dns';
import net from 'node:net';
import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { classifyAddress, isExternal } from '../../src/enrich/address.js';
import { AddressEnricher } from '../../src/enrich/enricher.js';
import { geoFromMmdb } from '../../src/enrich/databases.js';
import { prepareEnrichment } from '../../src/enrich/store-tables.js';
import { classifyUserAgent, loadUserAgentRules } from '../../src/enrich/user-agents.js';
import { Store } from '../../src/store/store.js';
import { makeRecord } from '../../synth/records.js';
import { cli } from '../helpers/cli.js';
import { Workspace, jsonLines } from '../helpers/workspace.js';

describe('what an address is, before any database', () => {
  it.each([
    ['ec2.amazonaws.com', 'aws-service'],
    ['lambda.amazonaws.com', 'aws-service'],
    ['AWS Internal', 'aws-internal'],
    ['10.0.1.5', 'private'],
    ['172.16.0.9', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd00::1', 'private'],
    ['203.0.113.77', 'documentation'],
    ['2001:db8::5', 'documentation'],
    ['127.0.0.1', 'special'],
    ['8.8.8.8', 'internet'],
    ['::ffff:8.8.8.8', 'internet'],
    ['2606:4700:4700::1111', 'internet'],
    ['example.com', 'unknown'],
    ['', 'unknown'],
  ])('%s is %s', (address, kind) => expect(classifyAddress(address)).toBe(kind));
});

describe('enrichment from the packaged databases', () => {
  const enricher = new AddressEnricher();
  afterEach(() => vi.restoreAllMocks());

  it('names the owner and country of addresses whose owner is certain (public resolvers)', () => {
    expect(enricher.lookup('8.8.8.8')).toMatchObject({ kind: 'internet', asn: 15169, country: 'US', awsOwned: false });
    expect(enricher.lookup('1.1.1.1')).toMatchObject({ asn: 13335, asOrg: expect.stringMatching(/Cloudflare/) });
    expect(enricher.lookup('2001:4860:4860::8888')).toMatchObject({ asn: 15169 });
    const google = enricher.lookup('8.8.4.4');
    expect(google.latitude).toBeTypeOf('number');
    expect(google.longitude).toBeTypeOf('number');
  });

  it('knows AWS from its autonomous systems and its service names, and leaves private and documentation ranges unlocated', () => {
    expect(enricher.lookup('52.95.110.1')).toMatchObject({ asn: 16509, awsOwned: true });
    expect(enricher.lookup('ec2.amazonaws.com')).toMatchObject({ kind: 'aws-service', awsOwned: true, asn: null });
    expect(enricher.lookup('10.1.2.3')).toMatchObject({ kind: 'private', asn: null, country: null, awsOwned: false });
    expect(enricher.lookup('203.0.113.77')).toMatchObject({ kind: 'documentation', asn: null, country: null });
  });

  it('fills address_info with what a lookup of each address gives, networks sharing one enrichment', async () => {
    const addresses = [
      '8.8.8.8', '8.8.4.4', '1.1.1.1', '1.0.0.1', '52.95.110.1', '52.95.110.2', '104.131.0.1', '81.2.69.160', '81.2.69.161',
      '2001:4860:4860::8888', '2001:4860:4860::8844', '10.1.2.3', '10.9.9.9', '203.0.113.77', 'ec2.amazonaws.com', 'AWS Internal', 'not an address',
    ];
    const store = await Store.open(':memory:');
    try {
      await store.run(`create temp table events as select unnest($a) as sourceipaddress, null::varchar as useragent`, { a: listValue(addresses) }, { a: LIST(VARCHAR) });
      const stats = await prepareEnrichment(store, new AddressEnricher());
      expect(stats.addresses).toBe(addresses.length);
      const rows = await store.all<Record<string, unknown>>(`select * from address_info order by address`);
      const fresh = new AddressEnricher();
      expect(rows.map((r) => r['address'])).toEqual([...addresses].sort());
      for (const row of rows) {
        const i = fresh.lookup(row['address'] as string);
        expect([row['kind'], row['asn'] === null ? null : Number(row['asn']), row['as_org'], row['country'], row['city'], row['latitude'], row['longitude'], row['accuracy_km'], row['aws_owned'], row['hosting']], i.address)
          .toEqual([i.kind, i.asn, i.asOrg, i.country, i.city, i.latitude, i.longitude, i.accuracyKm, i.awsOwned, i.hosting]);
        expect(row['external']).toBe(isExternal(i.kind));
      }
    } finally {
      store.close();
    }
  });

  it('names hosting providers from queries/networks.yml', () => {
    expect(enricher.lookup('104.131.0.1').hosting).toMatch(/DigitalOcean/);
    expect(enricher.lookup('81.2.69.160').hosting).toBeNull();
  });

  it('works with networking disabled: no socket, no DNS lookup', () => {
    const connect = vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(() => {
      throw new Error('network used');
    });
    const lookup = vi.spyOn(dns, 'lookup').mockImplementation(() => {
      throw new Error('DNS used');
    });
    const fresh = new AddressEnricher();
    expect(fresh.lookup('9.9.9.9').asn).toBeTypeOf('number');
    expect(fresh.lookup('2a00:1450:4001::1').country).toMatch(/^[A-Z]{2}$/);
    expect(connect).not.toHaveBeenCalled();
    expect(lookup).not.toHaveBeenCalled();
  });

  it('refuses a --geoip-db that is missing or not an MMDB file, saying what to pass', () => {
    const ws = new Workspace();
    try {
      expect(() => geoFromMmdb(ws.path('missing.mmdb'))).toThrow(/no such database file/);
      expect(() => geoFromMmdb(ws.write('bad.mmdb', 'not a database'))).toThrow(/not a readable MMDB/);
    } finally {
      ws.dispose();
    }
  });
});

describe('user-agent classes', () => {
  it.each([
    ['aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-azure md/arch#x86_64', 'aws-cli'],
    ['Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#6.6.9-kali1-amd64', 'attack-os'],
    ['stratus-red-team_ea782787-a65d-4fc4-9fca-1c97869a9a25', 'offensive-tool'],
    ['Scout Suite/5.14.0', 'recon-tool'],
    ['signin.amazonaws.com', 'console'],
    ['lambda.amazonaws.com', 'aws-service'],
    ['APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.40.0', 'terraform'],
    ['aws-sdk-go-v2/1.24.1 os/linux lang/go#1.21', 'sdk-go'],
    ['aws-sdk-java/1.12.600 Linux/5.10', 'sdk-java'],
    ['Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#6.5.0', 'sdk-python'],
    ['python-requests/2.31.0', 'generic-http'],
    ['curl/8.4.0', 'generic-http'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)', 'browser'],
    ['something else entirely', 'other'],
  ])('%s is %s', (agent, cls) => expect(classifyUserAgent(agent)).toBe(cls));

  it('keeps the classes as data, each rule with a reason', () => {
    const rules = loadUserAgentRules();
    expect(rules.length).toBeGreaterThanOrEqual(20);
    for (const r of rules) expect(r.why.length).toBeGreaterThan(10);
    expect(classifyUserAgent(null)).toBeNull();
  });
});

describe('analyze shows what each address and agent is', () => {
  it('in JSON (asn, asOrg, country, city, awsOwned; class) and in text', () => {
    const ws = new Workspace();
    try {
      const who = { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333', accessKeyId: 'AKIAEXAMPLEENRICH001', userName: 'alice' };
      const records = [
        makeRecord('ListBuckets', { eventTime: '2026-03-01T10:00:00Z', sourceIPAddress: '8.8.8.8', userAgent: 'Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#6.6.9-kali1-amd64', userIdentity: who } as never),
        makeRecord('ListBuckets', { eventTime: '2026-03-01T10:05:00Z', sourceIPAddress: '52.95.110.1', userAgent: 'aws-cli/2.15.30 md/awscrt#0.19.19', userIdentity: who } as never),
      ];
      const db = ws.path('case.duckdb');
      expect(cli(['ingest', ws.write('e.jsonl', jsonLines(records)), '--db', db, '--no-progress']).code).toBe(0);
      const json = cli(['analyze', '--db', db, '--key', who.accessKeyId, '--format', 'json']);
      expect(json.code, json.stderr).toBe(0);
      const result = JSON.parse(json.stdout) as { ips: Record<string, unknown>[]; userAgents: Record<string, unknown>[] };
      expect(result.ips.find((i) => i['ip'] === '8.8.8.8')).toMatchObject({ asn: 15169, asOrg: 'Google LLC', country: 'US', awsOwned: false });
      expect(result.ips.find((i) => i['ip'] === '52.95.110.1')).toMatchObject({ asn: 16509, awsOwned: true });
      expect(result.userAgents.map((u) => u['class']).sort()).toEqual(['attack-os', 'aws-cli']);
      const text = cli(['analyze', '--db', db, '--key', who.accessKeyId]);
      expect(text.stdout).toMatch(/8\.8\.8\.8 .*AS15169 Google LLC, US/);
      expect(text.stdout).toMatch(/52\.95\.110\.1 .*\[AWS\]/);
    } finally {
      ws.dispose();
    }
  });
});
