/** Where long host operations report their steps; the command layer prints them (core never prints). */
export interface Progress {
  step(msg: string): void;
  ok(msg: string): void;
  warn(msg: string): void;
}
