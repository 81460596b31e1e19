import { describe, expect, it } from 'vitest';
import { AsnRangeFile, RangeTable } from '../../src/enrich/databases.js';
import { Workspace } from '../helpers/workspace.js';

describe('the ASN range files', () => {
  it('read numbers, quoted organisations, CRLF lines and an unsorted file; skip lines that are not data', () => {
    const ws = new Workspace();
    try {
      const v4 = ws.write(
        'asn-ipv4-num.csv',
        [
          'start,end,asn,org',
          '134744064,134744319,15169,Google LLC',
          '16777216,16777471,13335,"Cloudflare, Inc."\r',
          '3221225984,3221226239,64500,"Example ""Quoted"" Net"',
          'garbage line',
          '',
        ].join('\n'),
      );
      const table = RangeTable.fromCsv(v4, Number);
      expect(table.find(134744072)).toEqual({ asn: 15169, org: 'Google LLC' }); // 8.8.8.8
      expect(table.find(16777217)).toEqual({ asn: 13335, org: 'Cloudflare, Inc.' }); // 1.0.0.1
      expect(table.find(3221226000)).toEqual({ asn: 64500, org: 'Example "Quoted" Net' });
      expect(table.find(134744320)).toBeNull();
      expect(table.find(1)).toBeNull();
      const v6 = ws.write('asn-ipv6-num.csv', '42541956123769884636017138956568135680,42541956123769884636017138956568135935,15169,Google LLC\n');
      const big = RangeTable.fromCsv(v6, BigInt);
      expect(big.find(42541956123769884636017138956568135816n)).toEqual({ asn: 15169, org: 'Google LLC' });
      expect(big.find(42541956123769884636017138956568135936n)).toBeNull();
    } finally {
      ws.dispose();
    }
  });
});

describe('the ASN range file searched on disk', () => {
  it('answers as the parsed table does, before and after it switches to the table', async () => {
    const { createRequire } = await import('node:module');
    const { dirname, join } = await import('node:path');
    const { BULK_LOOKUPS } = await import('../../src/enrich/databases.js');
    const folder = dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'));
    const path = join(folder, 'asn-ipv4-num.csv');
    const table = RangeTable.fromCsv(path, Number);
    const file = new AsnRangeFile(path, Number);
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const probes = [0, 16777216, 134744072, 3221226000, 2 ** 32 - 1, ...Array.from({ length: BULK_LOOKUPS + 50 }, () => Math.floor(next() * 2 ** 32))];
    for (const value of probes) expect(file.find(value), String(value)).toEqual(table.find(value));
  });

  it('skips a header and reads quoted organisations', () => {
    const ws = new Workspace();
    try {
      const lines = ['start,end,asn,org'];
      for (let i = 0; i < 2000; i++) lines.push(`${i * 1000},${i * 1000 + 499},${64500 + (i % 10)},"Net ${i}, Inc."`);
      const path = ws.write('asn.csv', `${lines.join('\n')}\n`);
      const file = new AsnRangeFile(path, Number);
      expect(file.find(1_234_100)).toEqual({ asn: 64504, org: 'Net 1234, Inc.' });
      expect(file.find(1_234_600)).toBeNull();
      expect(file.find(0)).toEqual({ asn: 64500, org: 'Net 0, Inc.' });
      expect(file.find(1_999_499)).toEqual({ asn: 64509, org: 'Net 1999, Inc.' });
      expect(file.find(1_999_500)).toBeNull();
    } finally {
      ws.dispose();
    }
  });
});
