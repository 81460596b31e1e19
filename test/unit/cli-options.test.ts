import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { commaList, ingestLimits, parseMinSeverity, parsePivot, uniqueList } from '../../src/cli/options.js';
import { buildProgram } from '../../src/cli/program.js';
import { DETECT_MEMORY_LIMIT, duckdbShare } from '../../src/cli/detect-command.js';

describe('CLI option groups', () => {
  it('splits repeated and comma-separated values in one place', () => {
    expect(commaList(['a,b', ' c ', ',', 'a'])).toEqual(['a', 'b', 'c', 'a']);
    expect(commaList(undefined)).toEqual([]);
    expect(uniqueList(['a,b', 'a', 'c,b'])).toEqual(['a', 'b', 'c']);
  });

  it('parses a pivot once: keys upper-cased, repeats dropped', () => {
    expect(parsePivot({ key: ['akiaexample1,akiaexample1'], ip: ['203.0.113.5', '203.0.113.5,198.51.100.7'], session: ['s1'] })).toEqual({
      keys: ['AKIAEXAMPLE1'],
      ips: ['203.0.113.5', '198.51.100.7'],
      principals: [],
      sessions: ['s1'],
    });
  });

  it('validates --min-severity once and returns the severity', () => {
    expect(parseMinSeverity(undefined)).toBeUndefined();
    expect(parseMinSeverity('high')).toBe('high');
    expect(() => parseMinSeverity('urgent')).toThrow(UsageError);
    expect(() => parseMinSeverity('urgent')).toThrow('--min-severity takes one of info, low, medium, high, critical');
  });

  it('groups ingest --help by source', () => {
    const ingest = buildProgram().commands.find((c) => c.name() === 'ingest')!;
    const help = ingest.helpInformation();
    const headings = help.split('\n').filter((line) => /^\S.*:$/.test(line));
    expect(headings).toEqual([
      'Arguments:',
      'Options:',
      'Event History (--event-history):',
      'CloudWatch Logs (--log-group):',
      'Filters applied by AWS (Event History, log group, Athena):',
      'AWS sources (s3://, --event-history, --log-group, --athena):',
      'S3 trail archives (s3://BUCKET[/PREFIX]):',
      'Amazon Athena (--athena):',
    ]);
    const section = (heading: string) => help.slice(help.indexOf(heading)).split('\n\n')[0]!;
    expect(section('Amazon Athena (--athena):')).toContain('--athena-database');
    expect(section('Event History (--event-history):')).toContain('--regions');
    expect(section('Options:')).toContain('--since');
  });
});

describe('ingest limits', () => {
  const GiB = 2 ** 30;
  it('default to half the machine, at least 1 GiB, and a largest file that fits in it', () => {
    expect(ingestLimits({}, 16 * GiB)).toEqual({ memoryLimit: '8192MiB', maxFileBytes: (8 * GiB) / 16 });
    expect(ingestLimits({}, 1 * GiB)).toEqual({ memoryLimit: '1024MiB', maxFileBytes: GiB / 16 });
    expect(ingestLimits({}, 64 * GiB).maxFileBytes).toBe(GiB);
  });
  it('size the largest file to a memory limit given, and take both as given', () => {
    expect(ingestLimits({ memoryLimit: '4GiB' }, 16 * GiB).maxFileBytes).toBe((4 * GiB) / 16);
    expect(ingestLimits({ memoryLimit: '4GB', maxFileMb: '10' }, 16 * GiB)).toEqual({ memoryLimit: '4GB', maxFileBytes: 10 * 2 ** 20 });
  });
});

describe('detect memory limit', () => {
  it('bounds the whole process: DuckDB works in the limit less what the process holds outside it', () => {
    expect(DETECT_MEMORY_LIMIT).toBe('1.5GiB');
    expect(duckdbShare(DETECT_MEMORY_LIMIT)).toBe('1024MiB');
    expect(duckdbShare('4GB')).toBe(`${Math.floor((4e9 - 512 * 2 ** 20) / 2 ** 20)}MiB`);
    // a limit below what the process needs anyway still leaves DuckDB room to work
    expect(duckdbShare('256MB')).toBe('128MiB');
    expect(() => duckdbShare('lots')).toThrow(UsageError);
  });
});
