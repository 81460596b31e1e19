import { describe, expect, it } from 'vitest';
import { RangeTable } from '../../src/enrich/databases.js';
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
