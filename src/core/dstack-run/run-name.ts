/**
 * A run's name when the configuration gives none: dstackai's
 * `<adjective>-<animal>-<N>`, N the lowest index free among the runs there are.
 */
const ADJECTIVES = [
  "brave",
  "calm",
  "clever",
  "eager",
  "fast",
  "fresh",
  "gentle",
  "happy",
  "kind",
  "lucky",
  "proud",
  "quiet",
  "sharp",
  "smart",
  "swift",
  "wet",
  "wise",
  "witty",
];
const ANIMALS = [
  "bat",
  "bear",
  "cat",
  "crab",
  "deer",
  "eagle",
  "fox",
  "frog",
  "hawk",
  "lion",
  "mangust",
  "moth",
  "owl",
  "panda",
  "seal",
  "shark",
  "tiger",
  "wolf",
];

/** `random` returns [0, 1); the caller passes Math.random, tests a fixed sequence. */
export function generateRunName(taken: Iterable<string>, random: () => number): string {
  const pick = (xs: string[]) => xs[Math.floor(random() * xs.length)]!;
  const base = `${pick(ADJECTIVES)}-${pick(ANIMALS)}`;
  const used = new Set(taken);
  let n = 1;
  while (used.has(`${base}-${n}`)) n++;
  return `${base}-${n}`;
}
