import { describe, expect, it } from 'vitest';
import { counted } from '../../src/core/words.js';
import { bucketSize } from '../../src/report/html-renderer.js';
import { clipMiddle, markdownHeading, markdownSafe, markdownText } from '../../src/report/text-safety.js';

describe('text for a ticket', () => {
  it('chooses the chart bucket from the span: a 37-minute incident is 37 bars, not one', () => {
    expect(bucketSize(37 * 60_000)).toBe(60_000);
    expect(bucketSize(3 * 3_600_000)).toBe(5 * 60_000);
    expect(bucketSize(4 * 86_400_000)).toBe(3 * 3_600_000);
    expect(bucketSize(0)).toBe(60_000);
    expect(Math.ceil((200 * 86_400_000) / bucketSize(200 * 86_400_000))).toBeLessThanOrEqual(48);
  });

  it('cuts user agents from the middle, keeping the part that tells them apart', () => {
    const a = 'aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-azure md/arch#x86_64 lang/python#3.11.8 md/command#s3.ls';
    const b = a.replace('s3.ls', 'iam.list-users');
    expect(clipMiddle(a, 60)).toHaveLength(60);
    expect(clipMiddle(a, 60)).toMatch(/^aws-cli\/2\.15\.30 .*….*md\/command#s3\.ls$/);
    expect(clipMiddle(a, 60)).not.toBe(clipMiddle(b, 60));
    expect(clipMiddle('short', 60)).toBe('short');
  });

  it('escapes only what Markdown interprets, and keeps hostile text inert', () => {
    expect(markdownText('2026-12-03T07:15:13Z by trailhound 0.1.0')).toBe('2026-12-03T07:15:13Z by trailhound 0.1.0');
    expect(markdownText('ATT&CK (T1078.004)')).toBe('ATT&CK (T1078.004)');
    expect(markdownText('[click](javascript:alert(1)) ![x](https://evil.example/p.png)')).toBe('\\[click\\](javascript\\:alert(1)) !\\[x\\](https\\://evil.example/p.png)');
    expect(markdownText('<img src=x onerror=alert(1)> &lt; *bold* _em_ `code` ~~gone~~')).toBe('&lt;img src=x onerror=alert(1)&gt; &amp;lt; \\*bold\\* \\_em\\_ \\`code\\` \\~\\~gone\\~\\~');
    expect(markdownText('user_name snake_case_id')).toBe('user_name snake_case_id');
    expect(markdownText('a\\*b line\r\nbreak')).toBe('a\\\\\\*b line break');
    expect(markdownSafe('a | b')).toBe('a \\| b');
    expect(markdownText('a | b')).toBe('a | b');
    expect(markdownHeading('title ##')).toBe('title \\##');
  });

  it('puts numbers and nouns in agreement', () => {
    expect(counted(1, 'event')).toBe('1 event');
    expect(counted(2095, 'event')).toBe('2,095 events');
    expect(counted(0, 'policy')).toBe('0 policies');
    expect(counted(3, 'address')).toBe('3 addresses');
  });
});
