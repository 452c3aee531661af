/**
 * Commands in the docs' shell code blocks, split the way sh would split them
 * (quotes, `\` line continuations, `#` comments, `|` `&&` `||` `;` `&`), enough
 * to find which tool a doc example runs and with which words.
 */

/** One simple command: its words, in order. */
export type Command = string[];

/** The simple commands of a shell snippet, in order. */
export function commands(snippet: string): Command[] {
  const out: Command[] = [];
  let words: string[] = [];
  let word: string | undefined;
  const endWord = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  const endCommand = () => {
    endWord();
    if (words.length) out.push(words);
    words = [];
  };
  const s = snippet.replace(/\\\n/g, " ");
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "'" || c === '"') {
      const close = s.indexOf(c, i + 1);
      const end = close < 0 ? s.length : close;
      word = (word ?? "") + s.slice(i + 1, end);
      i = end;
    } else if (c === "#" && word === undefined) {
      const nl = s.indexOf("\n", i);
      i = (nl < 0 ? s.length : nl) - 1;
    } else if (c === "\n" || c === ";" || c === "|" || c === "&") {
      endCommand();
      if ((c === "|" || c === "&") && s[i + 1] === c) i++;
    } else if (c === " " || c === "\t") {
      endWord();
    } else {
      word = (word ?? "") + c;
    }
  }
  endCommand();
  return out;
}
