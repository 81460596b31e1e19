/**
 * The analyze answer as one screen of text, or as Markdown for a ticket. Every string from
 * the logs goes through terminalSafe or markdownSafe.
 */
import { counted } from '../core/words.js';
import { clipMiddle, markdownSafe, terminalSafe } from '../report/text-safety.js';
import { nowLines, nowMarkdown } from '../snapshot/render.js';
import type { Actor, AddressFacts, AnalyzeResult, Coverage, LineageNode, ResourceChange } from './types.js';

const TOP = 5;

/** A short description of the pivot. */
export function pivotText(result: AnalyzeResult): string {
  const p = result.pivot;
  const parts = [
    ...p.keys.map((k) => `key ${k}`),
    ...p.ips.map((i) => `ip ${i}`),
    ...p.principals.map((x) => `principal ${x}`),
    ...p.sessions.map((s) => `session ${s}`),
  ];
  const window = [p.since ? `since ${p.since}` : '', p.until ? `until ${p.until}` : '', p.accounts.length ? `accounts ${p.accounts.join(',')}` : '', p.regions.length ? `regions ${p.regions.join(',')}` : '']
    .filter(Boolean)
    .join(', ');
  return `${parts.join(', ')}${window ? ` (${window})` : ''}`;
}

function n(value: number): string {
  return value.toLocaleString('en-US');
}

/** The lineage as an indented tree, one line per credential or principal. */
export function lineageLines(nodes: readonly LineageNode[], safe: (s: string) => string): string[] {
  const lines: string[] = [];
  const walk = (node: LineageNode, prefix: string, last: boolean, top: boolean) => {
    const branch = top ? '' : last ? '└─ ' : '├─ ';
    const o = node.origin;
    // Below the root the invoker is the parent, already on the line above.
    const invoker = o?.invoker && node.depth === 0 && o.invoker !== o.sourceIp ? ` by ${o.invoker}` : '';
    const how = o ? ` via ${o.eventName} ${o.eventTime}${invoker}${o.sourceIp ? ` from ${o.sourceIp}` : ''} [${o.eventId}]` : '';
    const who = node.principalArn && node.principalArn !== node.label ? ` as ${node.principalArn}` : '';
    const status = node.usability.status.toUpperCase();
    lines.push(`${prefix}${branch}${node.kind} ${safe(node.label)}${safe(who)}${safe(how)}: ${counted(node.eventCount, 'event')}${node.errorCount ? ` (${counted(node.errorCount, 'error')})` : ''}; ${status}: ${safe(node.usability.reason)}`);
    const childPrefix = top ? prefix : `${prefix}${last ? '   ' : '│  '}`;
    node.children.forEach((child, i) => walk(child, childPrefix, i === node.children.length - 1, false));
  };
  for (const root of nodes) walk(root, '', true, true);
  return lines;
}

/** One line per key, session or principal that acted in the pivot's own events. */
export function actorLines(actors: readonly Actor[], safe: (s: string) => string): string[] {
  return actors.map((a) => {
    const who = a.accessKeyId ? `${a.accessKeyId}${a.principalArn ? ` as ${a.principalArn}` : ''}` : (a.principalArn ?? '(no identity in the record)');
    return `${safe(who)}${a.identityType ? ` (${safe(a.identityType)})` : ''}: ${counted(a.count, 'event')}, ${a.first} .. ${a.last}`;
  });
}

/** One line per coverage fact and gap. */
export function coverageLines(coverage: Coverage): string[] {
  const lines = [
    coverage.events === 0
      ? 'the store holds no events for this window: an empty answer here means no evidence, not no activity'
      : `${coverage.from} .. ${coverage.to}: ${counted(coverage.events, 'event')}, accounts ${coverage.accounts.join(', ') || '-'}, regions ${coverage.regions.join(', ') || '-'}`,
    `sources: ${coverage.sources.map((s) => `${s.name} (${n(s.count)} events)`).join(', ') || 'none'}`,
  ];
  if (coverage.gaps.length === 0) lines.push('gaps: none seen (no logging stops, no days without events, no skipped inputs)');
  for (const gap of coverage.gaps) {
    const where = [gap.account, gap.region].filter(Boolean).join(' ');
    const when = gap.from || gap.to ? ` ${gap.from ?? '?'} .. ${gap.to ?? 'end of evidence'}` : '';
    lines.push(`gap: ${gap.kind}${where ? ` ${where}` : ''}${when}: ${gap.detail}`);
  }
  return lines;
}

function changeLine(c: ResourceChange): string {
  return `${c.eventTime} ${c.action} ${c.kind} ${c.id}${c.region ? ` in ${c.region}` : ''}${c.detail ? ` (${c.detail})` : ''}`;
}

/** The one-screen text answer. */
export function renderAnalyzeText(result: AnalyzeResult): string {
  const t = terminalSafe;
  const out: string[] = [];
  out.push(`Pivot: ${t(pivotText(result))}`);
  if (result.unmatched.length) out.push(`Not in the evidence: ${t(result.unmatched.join(', '))}`);
  if (result.eventCount === 0) {
    out.push('No events of the pivot in the store for this window.');
  } else {
    out.push(
      `Seen ${result.firstSeen} .. ${result.lastSeen}: ${counted(result.eventCount, 'event')}, ${counted(result.errorCount, 'error')} (${n(result.accessDeniedCount)} access denied)`,
    );
    out.push(`Accounts: ${result.accounts.map((a) => `${t(a.name)} (${n(a.count)})`).join(', ')}`);
    out.push(`Regions: ${result.regions.map((r) => `${t(r.region)} ${n(r.count)}${r.newForAccount ? ' NEW' : ''}`).join(', ')}`);
    if (result.pivot.ips.length || result.actors.length > 1) {
      out.push(`Keys, sessions and principals (${result.actors.length}):`);
      for (const line of actorLines(result.actors.slice(0, TOP * 2), t)) out.push(`  ${line}`);
      if (result.actors.length > TOP * 2) out.push(`  … ${result.actors.length - TOP * 2} more (--format json lists them all)`);
    }
    out.push(`Source IPs (${result.ips.length}):`);
    for (const ip of result.ips.slice(0, TOP)) out.push(`  ${t(ip.ip).padEnd(40)} ${n(ip.count).padStart(7)}  ${ip.first} .. ${ip.last}  ${t(addressLabel(ip))}`);
    if (result.ips.length > TOP) out.push(`  … ${result.ips.length - TOP} more (--format json lists them all)`);
    out.push(`User agents (${result.userAgents.length}):`);
    for (const ua of result.userAgents.slice(0, TOP)) out.push(`  ${n(ua.count).padStart(7)}  ${(ua.class ?? '').padEnd(14)} ${t(clipMiddle(ua.userAgent, 110))}`);
    if (result.userAgents.length > TOP) out.push(`  … ${result.userAgents.length - TOP} more`);
    out.push(`Calls: ${result.eventNames.slice(0, 12).map((e) => `${t(e.name)} ${n(e.count)}${e.errors ? ` (${n(e.errors)} failed)` : ''}`).join(', ')}${result.eventNames.length > 12 ? ', …' : ''}`);
    if (result.errorCodes.length) out.push(`Errors: ${result.errorCodes.map((e) => `${t(e.name)} ${n(e.count)}`).join(', ')}`);
  }
  out.push('', 'Credential lineage:');
  out.push(...lineageLines(result.lineage, t).map((l) => `  ${l}`));
  if (result.createdPrincipals.length) {
    out.push('', `Access created or widened (${result.createdPrincipals.length}):`);
    for (const c of result.createdPrincipals) {
      out.push(`  ${c.origin.eventTime} ${c.origin.eventName} ${c.kind} ${t(c.name)}${c.detail ? ` (${t(c.detail)})` : ''} [${c.origin.eventId}]`);
    }
  }
  const b = result.blastRadius;
  out.push('', `Blast radius: IAM ${b.iam.length}, compute ${b.compute.length}, data ${b.data.length}, logging and security ${b.logging.length}, other ${b.other.length} changes`);
  for (const l of b.cost.launches) {
    out.push(`  launched ${l.instances} x ${t(l.instanceType)} in ${t(l.region)}${l.vcpus !== null ? ` (${n(l.vcpus)} vCPU${l.gpus ? `, ${n(l.gpus)} GPU` : ''})` : ''}`);
  }
  for (const c of [...b.logging, ...b.cost.quotaRequests, ...b.cost.regionsEnabled]) out.push(`  ${t(changeLine(c))}`);
  for (const c of b.data.filter((d) => /Modify(Snapshot|Image|DBSnapshot)Attribute|PutBucketPolicy|PutBucketAcl|^Delete/.test(d.action))) out.push(`  ${t(changeLine(c))}`);
  // Calls of services outside the groups: each named, since nothing else on the screen says what they were.
  for (const c of b.other.slice(0, TOP)) out.push(`  ${t(changeLine(c))}`);
  if (b.other.length > TOP) out.push(`  … ${b.other.length - TOP} more other changes (--format json lists them)`);
  if (result.now) out.push('', ...nowLines(result.now, t));
  out.push('', 'Coverage:');
  out.push(...coverageLines(result.coverage).map((l) => `  ${t(l)}`));
  out.push('', `${counted(result.events.length, 'event')} of the lineage${result.eventsTruncated ? ' (cut at --max-events)' : ''}; --format json lists them.`);
  return `${out.join('\n')}\n`;
}

/** The answer as Markdown, for an incident ticket. */
export function renderAnalyzeMarkdown(result: AnalyzeResult): string {
  const m = markdownSafe;
  const out: string[] = [];
  out.push(`## trailhound analyze: ${m(pivotText(result))}`, '');
  out.push('| | |', '|---|---|');
  out.push(`| First seen | ${result.firstSeen ?? 'never'} |`);
  out.push(`| Last seen | ${result.lastSeen ?? 'never'} |`);
  out.push(`| Events | ${n(result.eventCount)} (${n(result.errorCount)} errors, ${n(result.accessDeniedCount)} access denied) |`);
  out.push(`| Accounts | ${result.accounts.map((a) => `${m(a.name)} (${n(a.count)})`).join(', ') || '-'} |`);
  out.push(`| Regions | ${result.regions.map((r) => `${m(r.region)} ${n(r.count)}${r.newForAccount ? ' **new**' : ''}`).join(', ') || '-'} |`);
  out.push(`| Derived keys | ${result.derivedKeys.map((k) => `${m(k.accessKeyId)} (${k.usability.status})`).join(', ') || 'none'} |`, '');
  if (result.actors.length) {
    out.push('### Keys, sessions and principals', '', '| Key | Principal | Type | Events | First | Last |', '|---|---|---|---:|---|---|');
    for (const a of result.actors) out.push(`| ${m(a.accessKeyId ?? '')} | ${m(a.principalArn ?? '')} | ${m(a.identityType ?? '')} | ${n(a.count)} | ${a.first} | ${a.last} |`);
    out.push('');
  }
  if (result.ips.length) {
    out.push('### Source IPs', '', '| IP | Events | First | Last | Network |', '|---|---:|---|---|---|');
    for (const ip of result.ips) out.push(`| ${m(ip.ip)} | ${n(ip.count)} | ${ip.first} | ${ip.last} | ${m(addressLabel(ip))} |`);
    out.push('');
  }
  if (result.userAgents.length) {
    out.push('### User agents', '', '| User agent | Class | Events |', '|---|---|---:|');
    for (const ua of result.userAgents) out.push(`| ${m(ua.userAgent)} | ${m(ua.class ?? '')} | ${n(ua.count)} |`);
    out.push('');
  }
  out.push('### Credential lineage', '', '```text', ...lineageLines(result.lineage, (s) => terminalSafe(s).replace(/`/g, "'")), '```', '');
  if (result.createdPrincipals.length) {
    out.push('### Access created or widened', '', '| Time | Call | Kind | Name | Detail | Event |', '|---|---|---|---|---|---|');
    for (const c of result.createdPrincipals) {
      out.push(`| ${c.origin.eventTime} | ${m(c.origin.eventName)} | ${c.kind} | ${m(c.name)} | ${m(c.detail ?? '')} | ${m(c.origin.eventId)} |`);
    }
    out.push('');
  }
  const b = result.blastRadius;
  const changes = [...b.iam, ...b.compute, ...b.data, ...b.logging, ...b.cost.quotaRequests, ...b.cost.regionsEnabled, ...b.other];
  if (changes.length) {
    out.push('### Blast radius', '', '| Time | Call | Kind | Resource | Region | Detail |', '|---|---|---|---|---|---|');
    for (const c of changes.sort((x, y) => x.eventTime.localeCompare(y.eventTime))) {
      out.push(`| ${c.eventTime} | ${m(c.action)} | ${m(c.kind)} | ${m(c.id)} | ${m(c.region ?? '')} | ${m(c.detail ?? '')} |`);
    }
    out.push('');
  }
  if (b.cost.launches.length) {
    out.push('### Instances launched', '', '| Region | Type | Instances | vCPUs | GPUs |', '|---|---|---:|---:|---:|');
    for (const l of b.cost.launches) out.push(`| ${m(l.region)} | ${m(l.instanceType)} | ${l.instances} | ${l.vcpus ?? '?'} | ${l.gpus ?? '?'} |`);
    out.push('');
  }
  if (result.now) out.push(...nowMarkdown(result.now));
  out.push('### Coverage', '', ...coverageLines(result.coverage).map((l) => `- ${m(l)}`), '');
  return `${out.join('\n')}\n`;
}

/** One line on an address's network: `AS15169 Google LLC, US (Mountain View)`, `AWS`, `private`… */
export function addressLabel(ip: AddressFacts): string {
  if (ip.kind !== 'internet' && ip.kind !== 'documentation') return ip.awsOwned ? `AWS (${ip.kind})` : ip.kind;
  if (ip.asn === null && !ip.country) return ip.kind === 'documentation' ? 'documentation range' : 'unknown network';
  const owner = ip.asn !== null ? `AS${ip.asn} ${ip.asOrg ?? ''}`.trim() : 'unknown network';
  const place = [ip.country, ip.city ? `(${ip.city})` : null].filter(Boolean).join(' ');
  return [owner, place].filter(Boolean).join(', ') + (ip.awsOwned ? ' [AWS]' : ip.hosting ? ' [hosting]' : '');
}
