/**
 * Makes a string safe to print on a terminal: control characters (ANSI escapes, CR, BEL, …)
 * that an attacker could plant in a log field are shown as \xNN instead of being obeyed.
 */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * Neutralises a spreadsheet formula: a cell that starts with = + - @ tab or CR is prefixed
 * with a single quote, so Excel and LibreOffice show it as text instead of running it.
 */
export function spreadsheetSafe(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/**
 * Makes a log string inert inside Markdown (a table cell or running text, as GitHub, GitLab
 * and Jira render it): HTML is entity-escaped, Markdown punctuation and table pipes are
 * backslash-escaped, line breaks become spaces, and URLs are kept from turning into links.
 */
export function markdownSafe(text: string): string {
  return terminalSafe(text.replace(/[\r\n]+/g, ' '))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_{}[\]()#+\-.!|~=]/g, (c) => `\\${c}`)
    .replace(/\b(https?|ftp|mailto|javascript|data):/gi, '$1\\:')
    .replace(/\bwww\\?\./gi, 'www\\.');
}
