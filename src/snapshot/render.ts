/**
 * The "now" view (what still exists, what the logs do not explain) as text lines and
 * Markdown (the HTML report has its own, in html-renderer). Names and ids come from the account and the logs: each format escapes them.
 */
import { markdownSafe } from '../report/text-safety.js';
import type { NowView, StillThere, Unexplained } from './join.js';

export { heading as nowHeading, more as nowMore, NOT_ASKED as NOW_NOT_ASKED };

const place = (region: string | null) => (region ? ` in ${region}` : '');
const createdText = (c: StillThere) => `${c.kind} ${c.id}${place(c.region)}: ${c.now === 'exists' ? `still there${c.state && c.state !== 'exists' ? ` (${c.state})` : ''}` : c.now === 'gone' ? `gone${c.state ? ` (${c.state})` : ''}` : 'unknown (the snapshot could not read it)'} [created by ${c.action}, ${c.eventId}]`;
const unexplainedText = (u: Unexplained) => `${u.kind} ${u.id}${place(u.region)}${u.state && u.state !== 'exists' ? ` (${u.state})` : ''}: ${u.why}`;
const heading = (now: NowView) => `Now, in snapshot ${now.snapshot.id} (${now.snapshot.takenAt}${now.snapshot.account ? `, account ${now.snapshot.account}` : ''})`;
const more = (now: NowView) => (now.unexplainedTotal !== null && now.unexplainedTotal > now.unexplained.length ? now.unexplainedTotal - now.unexplained.length : 0);
/** What stands for the count when the list was not asked for. */
const NOT_ASKED = 'not listed (analyze --unexplained, or the timeline, lists them)';

/** Text lines, each value passed through `t` (terminal-safe). */
export function nowLines(now: NowView, t: (s: string) => string): string[] {
  const still = now.created.filter((c) => c.now !== 'gone');
  const out = [`${heading(now)}:`];
  out.push(`  Created in the evidence: ${now.created.length} (${still.filter((c) => c.now === 'exists').length} still there, ${now.created.filter((c) => c.now === 'gone').length} gone, ${still.filter((c) => c.now === 'unknown').length} unknown)`);
  for (const c of [...still, ...now.created.filter((c) => c.now === 'gone')]) out.push(`    ${t(createdText(c))}`);
  out.push(`  In the account but not explained by the evidence: ${now.unexplainedTotal ?? NOT_ASKED}`);
  for (const u of now.unexplained) out.push(`    ${t(unexplainedText(u))}`);
  if (more(now)) out.push(`    … ${more(now)} more ("trailhound query" on snapshot_resources lists them)`);
  return out;
}

/** Markdown, under a heading of `level`. */
export function nowMarkdown(now: NowView, level = 3): string[] {
  const h = '#'.repeat(level);
  const out = [`${h} ${markdownSafe(heading(now))}`, ''];
  if (now.created.length) {
    out.push('| Created | Kind | Id | Region | Now | Event |', '|---|---|---|---|---|---|');
    for (const c of now.created) out.push(`| ${markdownSafe(c.action)} | ${markdownSafe(c.kind)} | ${markdownSafe(c.id)} | ${markdownSafe(c.region ?? '')} | ${c.now}${c.state ? ` (${markdownSafe(c.state)})` : ''} | ${markdownSafe(c.eventId)} |`);
    out.push('');
  } else out.push('Nothing the evidence shows created is a kind the snapshot reads.', '');
  out.push(`${h}# In the account, not explained by the evidence (${now.unexplainedTotal ?? NOT_ASKED})`, '');
  if (now.unexplainedTotal === null) {
    // Not asked for.
  } else if (now.unexplained.length) {
    out.push('| Kind | Id | Region | State | Why the logs do not show it |', '|---|---|---|---|---|');
    for (const u of now.unexplained) out.push(`| ${markdownSafe(u.kind)} | ${markdownSafe(u.id)} | ${markdownSafe(u.region ?? '')} | ${markdownSafe(u.state ?? '')} | ${markdownSafe(u.why)} |`);
    if (more(now)) out.push('', `${more(now)} more not listed.`);
    out.push('');
  } else out.push('Every resource in the snapshot is named by a creating call in the evidence.', '');
  return out;
}
