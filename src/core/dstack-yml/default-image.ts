/**
 * The image a run gets without `image:`. dstackai's default is its CUDA base
 * image with a venv for the requested Python; a confidential host has no CUDA
 * stack to offer by default, so here it is the official Python image for the
 * version (`python: 3.11` → `python:3.11-slim`), Debian-based with bash, and
 * Python 3.12 when no version is given.
 */
export const DEFAULT_PYTHON = "3.12";

export function defaultImage(python: string | undefined): string {
  return `python:${python ?? DEFAULT_PYTHON}-slim`;
}
