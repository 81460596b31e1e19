/**
 * Makes a string safe to print on a terminal as one line: control characters (ANSI escapes,
 * CR, LF, BEL, …) and bidirectional overrides that an attacker could plant in a log field are
 * shown as \xNN / \uNNNN instead of being obeyed, so a field can neither recolour the screen
 * nor start a line of its own (a forged "trailhound: …" or summary line). Tabs stay.
 * @example terminalSafe('a\ntrailhound: all clear') // "a\\x0atrailhound: all clear"
 */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, escapeControl);
}

/** As terminalSafe, for a document of many lines (a rendered report): its line feeds stay. */
export function terminalSafeLines(text: string): string {
  return text.split('\n').map(terminalSafe).join('\n');
}

function escapeControl(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Neutralises spreadsheet formulas: the cell, and every line inside it, that starts with
 * = + - @ tab or CR (or the full-width = + - @ that Apple Numbers folds) gets a leading single
 * quote, so Excel, LibreOffice and Numbers show it as text instead of running it.
 * @example spreadsheetSafe('x\r=1+1') // "x\r'=1+1"
 */
export function spreadsheetSafe(text: string): string {
  return text.replace(/(?<=^|[\r\n])(?=[=+\-@\t\r\uff1d\uff0b\uff0d\uff20])/g, "'");
}

/**
 * Makes a log string inert in Markdown running text (GitHub, GitLab and Jira): only what
 * Markdown would interpret, where it would, is escaped — emphasis, code, link and
 * strikethrough marks anywhere; `<` before a tag or autolink; `&` before an entity; `\`
 * before punctuation; and URLs are kept from turning into links. Dates, versions and
 * `ATT&CK` stay as they are. Block markers (`#`, `>`, `-`, `1.`) only act at the start of a
 * line, where no log value is ever put.
 */
export function markdownText(text: string): string {
  return terminalSafe(text.replace(/[\r\n]+/g, ' '))
    .replace(/\\(?=[!-/:-@[-`{-~])/g, '\\\\')
    .replace(/&(?=#?[a-z0-9]+;)/gi, '&amp;')
    .replace(/<(?=[a-z/!?])/gi, '&lt;')
    // Inert in Markdown mid-line, but kept out of anything that reads the text as HTML.
    .replace(/>/g, '&gt;')
    .replace(/[`*[\]~]/g, (c) => `\\${c}`)
    // An underscore between word characters is not emphasis (user_name); elsewhere it may be.
    .replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, '\\_')
    .replace(/\b(https?|ftp|mailto|javascript|data):/gi, '$1\\:')
    .replace(/\bwww\./gi, 'www\\.');
}

/** Makes a log string inert in a Markdown heading: running-text rules, and a closing `#` run. */
export function markdownHeading(text: string): string {
  return markdownText(text).replace(/#+\s*$/, (run) => `\\${run}`);
}

/**
 * Makes a log string inert in a Markdown table cell: running-text rules, and the pipe that
 * would end the cell.
 */
export function markdownSafe(text: string): string {
  return markdownText(text).replace(/\|/g, '\\|');
}

/**
 * Cuts a long value from the middle, keeping its start and its end: user agents and ARNs
 * differ at the end as often as at the start.
 * @example clipMiddle('aws-cli/2.15.30 Python/3.11 Linux/6.5 exe/x86_64 command/s3.cp', 40)
 */
export function clipMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.ceil((max - 1) * 0.55);
  return `${text.slice(0, head)}…${text.slice(text.length - (max - 1 - head))}`;
}
