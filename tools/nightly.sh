#!/usr/bin/env bash
# One unattended `handouts build`, for cron (docs/scheduling.md, "Cron").
#
#   tools/nightly.sh [handouts build options...]
#
# - Creates its log folder, appends the build's output to one log file per day
#   (build-YYYY-MM-DD.log, with a time-stamped line at the start and end of each run), keeps
#   one JSON report per run (report-YYYYMMDDTHHMMSSZ-PID.json; report.json links to the newest)
#   and deletes logs and reports older than HANDOUTS_KEEP_DAYS days.
# - Prints nothing when the build succeeds or when another build holds the lock (exit 3:
#   someone else is building, this run did nothing), so cron mails only a failure: one line
#   saying what happened and where the log is.
# - Exits with the build's own code: 0 all well, 1 some handouts failed (the others were
#   built), 2 usage or configuration error (nothing was built), 3 another build holds the
#   lock, 4 the output folder cannot be written, 130/143 stopped by SIGINT/SIGTERM (cleanly),
#   other 128+N killed by signal N. When it cannot
#   run the build at all it exits with codes of its own, never 1 to 4: 64 a bad setting, 66 no project folder, 69 no `handouts`
#   command, 73 the log folder or file cannot be written.
#
# Settings (environment variables):
#   HANDOUTS_PROJECT    the checkout to build (default: the folder above this script's)
#   HANDOUTS            the command (default: $HANDOUTS_PROJECT/.venv/bin/handouts)
#   HANDOUTS_LOG_DIR    default: ${XDG_STATE_HOME:-$HOME/.local/state}/handouts
#   HANDOUTS_KEEP_DAYS  default: 30
set -u -o pipefail  # not -e: every step's outcome is handled below, with its own exit code

EX_USAGE=64 EX_NOINPUT=66 EX_UNAVAILABLE=69 EX_CANTCREAT=73

fail() {  # fail CODE MESSAGE: a problem of this script, not of the build
  echo "nightly.sh: $2" >&2
  exit "$1"
}

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd) || fail $EX_NOINPUT "cannot find its own folder"
project=${HANDOUTS_PROJECT:-$(dirname -- "$here")}
handouts=${HANDOUTS:-$project/.venv/bin/handouts}
log_dir=${HANDOUTS_LOG_DIR:-${XDG_STATE_HOME:-${HOME:-/nonexistent}/.local/state}/handouts}
keep_days=${HANDOUTS_KEEP_DAYS:-30}

[[ $keep_days =~ ^[0-9]+$ ]] || fail $EX_USAGE "HANDOUTS_KEEP_DAYS='$keep_days' is not a whole number of days"
cd -- "$project" 2>/dev/null || fail $EX_NOINPUT "no project folder at $project (set HANDOUTS_PROJECT)"
command -v -- "$handouts" >/dev/null || fail $EX_UNAVAILABLE "no handouts command at $handouts (run 'make handouts' in $project, or set HANDOUTS)"
mkdir -p -- "$log_dir" 2>/dev/null || fail $EX_CANTCREAT "cannot create the log folder $log_dir (set HANDOUTS_LOG_DIR)"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
log=$log_dir/build-$(date -u +%Y-%m-%d).log
report=$log_dir/report-$stamp-$$.json
{ : >>"$log"; } 2>/dev/null || fail $EX_CANTCREAT "cannot write the log file $log"

note() {  # a time-stamped line in the log
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) nightly.sh: $*" >>"$log"
}

note "start: $handouts build --report $report $* (in $project)"
"$handouts" build --report "$report" "$@" >>"$log" 2>&1
code=$?
[ -f "$report" ] && ln -sfn -- "${report##*/}" "$log_dir/report.json"

case $code in
  0) outcome="ok: every handout is up to date" ;;
  1) outcome="some handouts failed (the others were built; each failed one keeps its previous PDF)" ;;
  2) outcome="usage or configuration error: nothing was built" ;;
  3) outcome="another build holds the lock: this one did nothing" ;;
  4) outcome="the output folder or the report cannot be written (read-only, full disk, permissions): every PDF there is whole" ;;
  130 | 143) outcome="stopped by SIG$([ "$code" = 130 ] && echo INT || echo TERM): it cleaned up; the next run renders what was not done" ;;
  *) if [ "$code" -gt 128 ]; then
       outcome="killed by signal $((code - 128))"
     else
       outcome="unexpected exit code (a bug: report it with this log)"
     fi ;;
esac
note "exit $code: $outcome"
find "$log_dir" -maxdepth 1 -type f \( -name 'build-*.log' -o -name 'report-*.json' \) \
  -mtime +"$keep_days" -delete 2>/dev/null || note "could not delete old logs in $log_dir"

case $code in
  0 | 3) ;;
  *) echo "handouts build: exit $code: $outcome; see $log" >&2 ;;
esac
exit "$code"
