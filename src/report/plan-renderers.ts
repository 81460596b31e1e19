/**
 * The remediation plan as a Markdown checklist, JSON, and a POSIX shell script of aws-cli
 * commands, every one commented out. Pure: plan in, text out. Every string from the logs is
 * escaped for where it lands (Markdown, a shell comment).
 */
import type { RemediationAction, RemediationPlan } from '../remediate/types.js';
import { clipMiddle, markdownSafe, terminalSafe } from './text-safety.js';

/** A command in a Markdown code span, or escaped text when it cannot be one. */
export function markdownCode(text: string): string {
  return /[`\r\n]/.test(text) ? markdownSafe(text) : `\`${text}\``;
}

/** Why an action has no command: it needs a person, or a value from the logs failed its check. */
export function noCommand(a: RemediationAction): string {
  return a.rejected ? `no command: "${clipMiddle(a.rejected.value, 80)}" from the logs is not a valid ${a.rejected.kind}; handle it by hand` : 'no command: do this in the console or by hand';
}

/** The call that already did an action, as one sentence: `DeleteUser at 2026-… by arn:… from 203.0.113.7 (event …)`. */
export function doneLine(a: RemediationAction): string | null {
  const d = a.done;
  return d ? `Done in the evidence: ${d.eventName} at ${d.eventTime} by ${d.actor}${d.sourceIp ? ` from ${d.sourceIp}` : ''} (event ${d.eventId}); check it still holds.` : null;
}

/** Whether an action is done: the snapshot's word when it has one, else the evidence's. */
export function isDone(a: RemediationAction): boolean {
  return a.state === 'done' || (a.state !== 'open' && a.done !== undefined);
}

/** What the account snapshot says of an action, as one sentence; null without a snapshot. */
export function stateLine(plan: RemediationPlan, a: RemediationAction): string | null {
  if (!plan.snapshot || !a.state) return null;
  return `Now: ${a.state === 'open' ? 'OPEN' : a.state}, ${a.stateEvidence ?? ''}`;
}

/** The count of actions by state, for the plan's opening line; null without a snapshot. */
export function stateSummary(plan: RemediationPlan): string | null {
  if (!plan.snapshot) return null;
  const count = (state: string) => plan.steps.reduce((n, s) => n + s.actions.filter((a) => a.state === state).length, 0);
  return `Account snapshot ${plan.snapshot.id} (${plan.snapshot.takenAt}${plan.snapshot.account ? `, account ${plan.snapshot.account}` : ''}): ${count('open')} open, ${count('done')} done, ${count('unknown')} unknown.`;
}

function actionLine(plan: RemediationPlan, a: RemediationAction): string[] {
  const where = [a.region, a.account].filter(Boolean).map((v) => markdownSafe(v!)).join(', ');
  const lines = [`- [${isDone(a) ? 'x' : ' '}] **${markdownSafe(a.kind)}** ${markdownSafe(a.target)}${where ? ` (${where})` : ''}: ${markdownSafe(a.reason)}`];
  const done = doneLine(a);
  if (done) lines.push(`  ${markdownSafe(done)}`);
  const now = stateLine(plan, a);
  if (now) lines.push(`  ${markdownSafe(now)}`);
  if (a.evidence.length) lines.push(`  Evidence: ${a.evidence.slice(0, 8).map((id) => markdownSafe(id)).join(', ')}${a.evidence.length > 8 ? ` and ${a.evidence.length - 8} more` : ''}`);
  if (a.command) lines.push(`  ${markdownCode(a.command)}`);
  else if (a.rejected) lines.push(`  ${markdownSafe(`${noCommand(a).replace(/^n/, 'N')}.`)}`);
  return lines;
}

/** The plan as a Markdown checklist (headings from `level`, default `##`). */
export function renderPlanMarkdown(plan: RemediationPlan, level = 2): string {
  const h = '#'.repeat(level);
  const out: string[] = [];
  if (level === 2) out.push(`# Remediation plan`, '');
  out.push(
    `Containment time for the session deny policies: ${markdownSafe(plan.containedAt)}. Exposed keys: ${plan.exposedKeys.map(markdownSafe).join(', ') || 'none identified'}. Nothing here has been run: trailhound only reads.${doneCount(plan) ? ` ${doneCount(plan) === 1 ? 'One action is' : `${doneCount(plan)} actions are`} already done in the evidence (checked, with the call that did them).` : ''}`,
    '',
  );
  const states = stateSummary(plan);
  if (states) out.push(markdownSafe(states), '');
  for (const step of plan.steps) {
    out.push(`${h} ${step.number}. ${markdownSafe(step.title)}`, '', `_${markdownSafe(step.guidance)}_`, '');
    if (step.actions.length === 0) out.push('Nothing in the evidence for this step.', '');
    for (const a of step.actions) out.push(...actionLine(plan, a));
    if (step.id === 'launched-resources') {
      const active = plan.regions.filter((r) => r.attackerActivity);
      out.push('', `Regions to check: ${active.map((r) => `**${markdownSafe(r.region)}**${r.launches ? ` (${r.launches} launched)` : ''}`).join(', ')}${active.length ? ', then ' : ''}${plan.regions.filter((r) => !r.attackerActivity).map((r) => markdownSafe(r.region)).join(', ')}.`);
    }
    out.push('');
  }
  if (plan.caveats.length) out.push(`${h} Caveats`, '', ...plan.caveats.map((c) => `- ${markdownSafe(c)}`), '');
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** How many actions the evidence shows done. */
export function doneCount(plan: RemediationPlan): number {
  return plan.steps.reduce((n, s) => n + s.actions.filter((a) => a.done).length, 0);
}

/** The plan as JSON: every action with kind, target, region, reason, evidence and command. */
export function renderPlanJson(plan: RemediationPlan): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
}

/** Text safe inside a `#` comment: one line, no control characters. */
function comment(text: string): string {
  return terminalSafe(text.replace(/[\r\n\u2028\u2029]+/g, ' '));
}

function wrap(text: string, width = 96): string[] {
  const words = comment(text).split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The plan as a shell script: every command commented out, grouped by step, with its evidence. */
export function renderPlanShell(plan: RemediationPlan): string {
  const out = [
    '#!/bin/sh',
    '# Remediation plan written by trailhound. Every command is commented out: read each one,',
    '# check it against the evidence, then uncomment and run it yourself with credentials that',
    '# are not the compromised ones. trailhound never changes the account.',
    `# Containment time used in the session deny policies: ${comment(plan.containedAt)}`,
    `# Exposed keys: ${comment(plan.exposedKeys.join(', ') || 'none identified')}`,
    ...(stateSummary(plan) ? [`# ${comment(stateSummary(plan)!)}`] : []),
    'set -eu',
    '',
  ];
  for (const step of plan.steps) {
    out.push(`# ${'='.repeat(90)}`, `# Step ${step.number}. ${comment(step.title)}`, ...wrap(step.guidance).map((l) => `# ${l}`), `# ${'='.repeat(90)}`, '');
    if (step.actions.length === 0) out.push('# Nothing in the evidence for this step.', '');
    for (const a of step.actions) {
      out.push(`# [${comment(a.kind)}] ${comment(a.target)}${a.region ? ` (${comment(a.region)})` : ''}`);
      out.push(...wrap(a.reason).map((l) => `#   ${l}`));
      const done = doneLine(a);
      if (done) out.push(...wrap(done).map((l) => `#   ${l}`));
      const now = stateLine(plan, a);
      if (now) out.push(...wrap(now).map((l) => `#   ${l}`));
      if (a.evidence.length) out.push(...wrap(`evidence: ${a.evidence.join(' ')}`).map((l) => `#   ${l}`));
      out.push(a.command ? `# ${comment(a.command)}` : `#   (${comment(noCommand(a))})`, '');
    }
    if (step.id === 'launched-resources') {
      out.push(`# Regions with attacker activity: ${comment(plan.regions.filter((r) => r.attackerActivity).map((r) => r.region).join(' ') || 'none seen')}`);
      out.push(...wrap(`Check also: ${plan.regions.filter((r) => !r.attackerActivity).map((r) => r.region).join(' ')}`).map((l) => `# ${l}`), '');
    }
  }
  for (const c of plan.caveats) out.push(...wrap(`caveat: ${c}`).map((l) => `# ${l}`));
  return `${out.join('\n').trimEnd()}\n`;
}
