/** What one preflight check found. */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do about a failure. */
  fix?: string;
  /** A failure that --ignore-preflight-errors demoted to a warning. */
  ignored?: boolean;
  /** Not an error at all, only worth a mention. */
  warning?: boolean;
}
