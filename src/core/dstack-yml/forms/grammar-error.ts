/** A value that does not fit a dstackai grammar; the message is dstackai's where it has one. */
export class GrammarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GrammarError";
  }
}
