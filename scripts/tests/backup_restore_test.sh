#!/usr/bin/env bash
# shellcheck disable=SC2015,SC2016,SC2001,SC2059  # `a && ok || notok` (ok never fails), bash -c bodies, byte flipping
# End-to-end test of scripts/backup_db.sh and scripts/restore_db.sh.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: DATABASE_URL=postgres://user@host:port/somedb scripts/tests/backup_restore_test.sh

Backs up `somedb` (an already migrated and seeded database; PG* variables are used
when DATABASE_URL is unset), restores it into fresh databases and compares them,
and checks the failure paths: corrupted and truncated dumps, concurrent backups,
retention, non-empty targets and failed restores. The connecting role needs
CREATEDB; the failed-restore checks that need CREATEROLE / superuser are skipped
without it.

Prints "ok - ..." / "not ok - ..." per check and finally
"backup_restore: N passed, M failed". Exits 0 when M is 0, 1 otherwise
(2 on a usage or setup error). Every database, role and temporary directory it
creates is removed at exit.
EOF
}
case "${1:-}" in -h|--help) usage; exit 0 ;; "") ;; *) usage >&2; exit 2 ;; esac

HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
SCRIPTS=$(dirname -- "$HERE")
BACKUP="$SCRIPTS/backup_db.sh"
RESTORE="$SCRIPTS/restore_db.sh"

if ! command -v psql >/dev/null 2>&1 || ! command -v pg_dump >/dev/null 2>&1; then
  # shellcheck disable=SC2012  # version-named directories
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -n "$pgbin" ]] && PATH="$PATH:$pgbin"
fi
for tool in psql pg_dump pg_restore flock sha256sum dd od; do
  command -v "$tool" >/dev/null 2>&1 || { echo "setup error: $tool not found" >&2; exit 2; }
done

# ----------------------------------------------------------------- connections
URL_BASE="" URL_QUERY=""
if [[ -n "${DATABASE_URL:-}" ]]; then
  [[ "$DATABASE_URL" =~ ^(postgres|postgresql)://(([^@/?]*)@)?([^/?]*)(/[^?]*)?(\?.*)?$ ]] \
    || { echo "setup error: DATABASE_URL is not a postgres:// URL" >&2; exit 2; }
  userinfo=${BASH_REMATCH[3]}
  URL_BASE="${BASH_REMATCH[1]}://${userinfo:+$userinfo@}${BASH_REMATCH[4]}"
  URL_QUERY=${BASH_REMATCH[6]}
fi
# conninfo for database $1 on the server under test
conn() {
  if [[ -n "$URL_BASE" ]]; then printf '%s/%s%s' "$URL_BASE" "$1" "$URL_QUERY"
  else printf "dbname='%s'" "$1"; fi
}
# run a command with the connection environment pointing at database $1
with_db() {
  local db=$1; shift
  if [[ -n "$URL_BASE" ]]; then DATABASE_URL=$(conn "$db") "$@"; else PGDATABASE=$db "$@"; fi
}
# --target argument for database $1 (URL when testing with DATABASE_URL, else a bare name)
target_arg() { if [[ -n "$URL_BASE" ]]; then conn "$1"; else printf '%s' "$1"; fi; }
q() { # q DB [psql args]   (SQL on stdin)
  local db=$1; shift
  psql -X -q -At -v ON_ERROR_STOP=1 -d "$(conn "$db")" "$@"
}

if [[ -n "${DATABASE_URL:-}" ]]; then
  SRC=$(psql -X -q -At -d "$DATABASE_URL" -c 'SELECT current_database()') \
    || { echo "setup error: cannot connect with DATABASE_URL" >&2; exit 2; }
else
  SRC=$(psql -X -q -At -c 'SELECT current_database()') \
    || { echo "setup error: cannot connect with the PG* settings" >&2; exit 2; }
fi
PRIV=$(q "$SRC" <<<"SELECT rolsuper::int::text || (rolsuper OR rolcreaterole)::int::text FROM pg_roles WHERE rolname = current_user;")
IS_SUPER=${PRIV:0:1} CAN_CREATEROLE=${PRIV:1:1}

# ----------------------------------------------------------------- bookkeeping
PASSED=0 FAILED=0
ok() { echo "ok - $*"; PASSED=$((PASSED + 1)); }
notok() { echo "not ok - $*"; FAILED=$((FAILED + 1)); }
skip() { echo "ok - $1 # SKIP $2"; PASSED=$((PASSED + 1)); }
check() { # check DESCRIPTION COMMAND...
  local d=$1; shift
  if "$@"; then ok "$d"; else notok "$d"; fi
}
show() { sed 's/^/#   /' "$1"; }
RC=0
run() { # run OUTFILE COMMAND... -> RC
  local out=$1; shift
  set +e; "$@" >"$out" 2>&1; RC=$?; set -e
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/backup_restore_test.XXXXXX")
P="brt_$$"
ROLE="${P}_role"
BG_PIDS=()
dblist() { q "$SRC" <<<"SELECT datname FROM pg_database ORDER BY 1;"; }
INITIAL_DBS=$(dblist)

cleanup() {
  local rc=$? pid d
  trap - EXIT INT TERM
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  while IFS= read -r d; do
    [[ -n "$d" ]] || continue
    grep -qxF -- "$d" <<<"$INITIAL_DBS" && continue
    if [[ "$d" == "${SRC}_restored_"* || "$d" == "${P}_"* ]]; then
      q "$SRC" -v n="$d" <<<'DROP DATABASE IF EXISTS :"n";' || echo "# could not drop database $d" >&2
    fi
  done < <(dblist 2>/dev/null || true)
  if [[ "$CAN_CREATEROLE" == 1 ]]; then
    q "$SRC" -v r="$ROLE" <<<'SET client_min_messages = warning; DROP ROLE IF EXISTS :"r";' || true
  fi
  rm -rf -- "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ----------------------------------------------------------------- fingerprints
COUNT_SQL="SELECT format('%s.%s', table_schema, table_name),
  (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name),
   false, true, '')))[1]::text
FROM information_schema.tables
WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
  AND table_schema !~ '^pg_(toast|temp_|toast_temp_)'
ORDER BY 1;"
counts() { q "$1" -F $'\t' <<<"$COUNT_SQL"; }
# relations + exact row counts: detects any dropped/created/changed table
fingerprint() {
  q "$1" -F $'\t' <<<"SELECT n.nspname, c.relname, c.relkind FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r','p','v','m','S','f') AND n.nspname NOT IN ('pg_catalog','information_schema')
      AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)' ORDER BY 1, 2;"
  counts "$1"
}
# md5 of a relation's (or query's) full contents, in a column-independent order
content_md5() { # content_md5 DB FROM-CLAUSE
  q "$1" <<<"SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM $2 t;"
}
dump_files() { find "$1" -maxdepth 1 -type f -name '*.dump' -printf '%f\n' | sort; }
only_final_files() { # nothing but *.dump, *.dump.sha256 and the lock file
  local extra
  extra=$(find "$1" -mindepth 1 -maxdepth 1 ! -name '*.dump' ! -name '*.dump.sha256' ! -name '.backup_db.lock' -printf '%f\n')
  [[ -z "$extra" ]] || { echo "# unexpected files: $extra"; return 1; }
  extra=$(find "$1" -mindepth 1 -maxdepth 1 -name '.*' ! -name '.backup_db.lock' -printf '%f\n')
  [[ -z "$extra" ]] || { echo "# unexpected files: $extra"; return 1; }
}
restored_name() { sed -n 's/^restore_db: restored into new database: //p' "$1" | tail -n 1; }
db_exists() { [[ $(q "$SRC" -v n="$1" <<<"SELECT count(*) FROM pg_database WHERE datname = :'n';") == 1 ]]; }
same_counts_for_source_tables() { # every table of the source has the same count in DB $1
  local missing
  missing=$(grep -vxF -f <(counts "$1") <<<"$SRC_COUNTS" || true)
  [[ -z "$missing" ]] || { echo "# differing/missing (source side): $missing" | head -n 20; return 1; }
}

echo "# source database: $SRC; scratch: $TMP"
SRC_COUNTS=$(counts "$SRC")
SRC_NTABLES=$(grep -c . <<<"$SRC_COUNTS" || true)
echo "# $SRC_NTABLES tables in non-system schemas"

check "backup_db.sh --help exits 0" bash -c '"$1" --help >/dev/null' _ "$BACKUP"
check "restore_db.sh --help exits 0" bash -c '"$1" --help >/dev/null' _ "$RESTORE"

# ================================================================ 1. backup
B1="$TMP/b1"
run "$TMP/b1.out" env BACKUP_DIR="$B1" "$BACKUP"
if [[ $RC -eq 0 ]]; then ok "backup of $SRC exits 0"; else notok "backup of $SRC exits 0 (rc=$RC)"; show "$TMP/b1.out"; fi
mapfile -t dumps < <(dump_files "$B1" 2>/dev/null || true)
DUMP=""
if [[ ${#dumps[@]} -eq 1 && "${dumps[0]}" =~ ^"$SRC"_[0-9]{8}T[0-9]{6}Z\.dump$ ]]; then
  DUMP="$B1/${dumps[0]}"
  ok "backup wrote one dump named <db>_<UTC timestamp>.dump (${dumps[0]})"
else
  notok "backup wrote one dump named <db>_<UTC timestamp>.dump (found: ${dumps[*]:-none})"
fi
check "the dump has a .sha256 beside it" test -n "$DUMP" -a -s "$DUMP.sha256"
check "sha256sum -c accepts it in BACKUP_DIR" bash -c 'cd "$1" && sha256sum -c --quiet -- *.sha256' _ "$B1"
check "no temporary files are left in BACKUP_DIR" only_final_files "$B1"
check "pg_restore --list reads the dump" bash -c 'pg_restore --list -- "$1" >/dev/null' _ "$DUMP"

# a pg_dump that dies half-way, and one that "succeeds" with an unreadable file
for mode in fails garbage; do
  W="$TMP/bad_pg_dump_$mode"; mkdir -p "$W"
  rc=1 what="fails half-way"
  [[ $mode == garbage ]] && rc=0 what="writes an unreadable file"
  printf '#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = -f ] && printf "PGDMP partial" >"$2"; shift; done\nexit %s\n' \
    "$rc" >"$W/pg_dump"
  chmod +x "$W/pg_dump"
  BF="$TMP/bfail_$mode"
  run "$TMP/bf.out" env PATH="$W:$PATH" BACKUP_DIR="$BF" "$BACKUP"
  if [[ $RC -ne 0 ]] && [[ -z "$(dump_files "$BF")" ]] && only_final_files "$BF"; then
    ok "a backup whose pg_dump $what exits non-zero and leaves no file (rc=$RC)"
  else
    notok "a backup whose pg_dump $what exits non-zero and leaves no file (rc=$RC)"; show "$TMP/bf.out"
  fi
done

if [[ -z "$DUMP" ]]; then
  echo "# no dump to continue with"
  echo "backup_restore: $PASSED passed, $((FAILED + 1)) failed"
  exit 1
fi
DUMP_NAME=$(basename -- "$DUMP")

# ================================================================ 2. restore into a new database
# (relative path, run from $TMP)
run "$TMP/r1.out" bash -c 'cd "$1" && shift && "$@"' _ "$TMP" "$RESTORE" "b1/$DUMP_NAME"
NEWDB=$(restored_name "$TMP/r1.out")
if [[ $RC -eq 0 && -n "$NEWDB" ]] && db_exists "$NEWDB"; then
  ok "restore (relative path, no --target) creates a new database and prints its name ($NEWDB)"
else
  notok "restore (relative path, no --target) creates a new database and prints its name (rc=$RC)"
  show "$TMP/r1.out"
  NEWDB=""
fi
if [[ -n "$NEWDB" ]]; then
  [[ "$NEWDB" == "${SRC}_restored_"* ]] && ok "new database is named after the dump" \
    || notok "new database is named after the dump ($NEWDB)"
  NEW_COUNTS=$(counts "$NEWDB")
  nbad=0
  while IFS=$'\t' read -r t c; do
    [[ -n "$t" ]] || continue
    c2=$(awk -F '\t' -v t="$t" '$1 == t { print $2 }' <<<"$NEW_COUNTS")
    if [[ "$c2" != "$c" ]]; then
      notok "row count of $t: source $c, restored ${c2:-missing}"; nbad=$((nbad + 1))
    fi
  done <<<"$SRC_COUNTS"
  if [[ $nbad -eq 0 && "$NEW_COUNTS" == "$SRC_COUNTS" ]]; then
    ok "row counts of all $SRC_NTABLES tables match between $SRC and $NEWDB"
  elif [[ $nbad -eq 0 ]]; then
    notok "restored database has the same set of tables as the source"
  fi
  if grep -q $'^[^\t]*\\.schema_migrations\t' <<<"$SRC_COUNTS"; then
    mig=$(awk -F '\t' '$1 ~ /\.schema_migrations$/ { t += $2 } END { print t + 0 }' <<<"$NEW_COUNTS")
    [[ "$mig" -gt 0 ]] && ok "restored schema_migrations has $mig rows" || notok "restored schema_migrations has rows"
  fi

  # analytics views and materialized views
  HAS_ANALYTICS=$(q "$SRC" <<<"SELECT count(*) FROM pg_namespace WHERE nspname = 'analytics';")
  if [[ "$HAS_ANALYTICS" == 1 ]]; then
    mapfile -t AVIEWS < <(q "$SRC" -F $'\t' <<<"SELECT c.relname, c.relkind, CASE WHEN c.relkind = 'm' THEN c.relispopulated::int ELSE 1 END
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'analytics' AND c.relkind IN ('v', 'm') ORDER BY 1;")
    [[ ${#AVIEWS[@]} -gt 0 ]] || skip "analytics views compared" "schema analytics has no views"
    for row in "${AVIEWS[@]}"; do
      IFS=$'\t' read -r v kind populated <<<"$row"
      rel=$(q "$SRC" -v v="$v" <<<"SELECT format('analytics.%I', :'v');")
      if [[ "$kind" == v ]]; then
        a=$(content_md5 "$SRC" "$rel" 2>&1) || true
        b=$(content_md5 "$NEWDB" "$rel" 2>&1) || true
        [[ -n "$a" && "$a" == "$b" ]] && ok "view $rel has the same contents in source and restore" \
          || notok "view $rel has the same contents in source and restore ($a / $b)"
      elif [[ "$populated" != 1 ]]; then
        rp=$(q "$NEWDB" -v v="$v" <<<"SELECT relispopulated::int FROM pg_class WHERE oid = format('analytics.%I', :'v')::regclass;")
        [[ "$rp" == 0 ]] && ok "materialized view $rel is unpopulated in both" \
          || notok "materialized view $rel is unpopulated in both"
      else
        a=$(content_md5 "$SRC" "$rel" 2>&1) || true
        b=$(content_md5 "$NEWDB" "$rel" 2>&1) || true
        if [[ -n "$a" && "$a" == "$b" ]]; then
          ok "materialized view $rel has the same contents in source and restore"
        else
          # pg_restore refreshes materialized views from the restored tables; a source
          # view that was not refreshed since its tables changed differs only in staleness.
          def=$(q "$SRC" -v v="$v" <<<"SELECT pg_get_viewdef(format('analytics.%I', :'v')::regclass);")
          def=$(sed -e 's/;[[:space:]]*$//' <<<"$def")
          fresh=$(content_md5 "$SRC" "($def)" 2>&1) || true
          [[ -n "$fresh" && "$fresh" == "$b" ]] \
            && ok "materialized view $rel in the restore equals its definition on the source (source copy was stale)" \
            || notok "materialized view $rel has the same contents in source and restore ($a / $b / $fresh)"
        fi
      fi
    done
  else
    skip "analytics views compared" "no analytics schema in $SRC"
  fi
fi

# A populated target with a marker table, used by the refusal checks.
TGT="${P}_target"
q "$SRC" -v n="$TGT" <<<'CREATE DATABASE :"n";'
q "$TGT" <<<"CREATE TABLE brt_marker(id int PRIMARY KEY, note text);
INSERT INTO brt_marker SELECT g, 'keep me ' || g FROM generate_series(1, 3) g;"
TGT_FP=$(fingerprint "$TGT")

# ================================================================ 3. corrupted file
C="$TMP/corrupt"; mkdir -p "$C"
cp -- "$DUMP" "$DUMP.sha256" "$C/"
CF="$C/$DUMP_NAME"
size=$(stat -c %s -- "$CF")
off=$((size / 2))
byte=$(od -An -tu1 -j "$off" -N1 -- "$CF" | tr -d ' ')
printf "\\$(printf '%03o' $(( (byte ^ 0xFF) & 0xFF )))" | dd of="$CF" bs=1 seek="$off" conv=notrunc status=none
check "the corrupted copy differs from the original" bash -c '! cmp -s "$1" "$2"' _ "$DUMP" "$CF"
before=$(dblist)
run "$TMP/c1.out" "$RESTORE" "$CF"
if [[ $RC -eq 3 ]] && grep -qi checksum "$TMP/c1.out"; then ok "corrupted dump is refused before touching a database (rc=3, checksum mismatch)"
else notok "corrupted dump is refused (rc=$RC)"; show "$TMP/c1.out"; fi
check "refusing the corrupted dump created no database" test "$before" == "$(dblist)"
run "$TMP/c2.out" "$RESTORE" "$CF" --target "$(target_arg "$TGT")" --yes
[[ $RC -eq 3 ]] && ok "corrupted dump is refused with --target --yes (rc=3)" \
  || notok "corrupted dump is refused with --target --yes"
check "the target is untouched after the corrupted dump" test "$TGT_FP" == "$(fingerprint "$TGT")"
rm -f -- "$C/$DUMP_NAME.sha256"
cp -- "$DUMP" "$C/$DUMP_NAME"
run "$TMP/c3.out" "$RESTORE" "$CF"
[[ $RC -eq 3 ]] && ok "a dump without its .sha256 is refused (rc=3)" || notok "a dump without its .sha256 is refused (rc=$RC)"

# ================================================================ 4. truncated files
for cut in tail half; do
  T="$TMP/trunc_$cut"; mkdir -p "$T"
  if [[ $cut == tail ]]; then keep=$((size - 64)); else keep=$((size / 2)); fi
  head -c "$keep" -- "$DUMP" >"$T/$DUMP_NAME"
  (cd "$T" && sha256sum -- "$DUMP_NAME" >"$DUMP_NAME.sha256")
  check "truncated ($cut) copy has a matching regenerated .sha256" \
    bash -c 'cd "$1" && sha256sum -c --quiet -- *.sha256' _ "$T"
  before=$(dblist)
  run "$TMP/t1.out" "$RESTORE" "$T/$DUMP_NAME"
  if [[ $RC -eq 3 ]] && ! grep -qi 'checksum mismatch' "$TMP/t1.out"; then
    ok "truncated ($cut) dump is refused by the archive check before touching a database (rc=3)"
  else notok "truncated ($cut) dump is refused by the archive check (rc=$RC)"; show "$TMP/t1.out"; fi
  check "refusing the truncated ($cut) dump created no database" test "$before" == "$(dblist)"
  run "$TMP/t2.out" "$RESTORE" "$T/$DUMP_NAME" --target "$(target_arg "$TGT")" --yes
  [[ $RC -eq 3 ]] && ok "truncated ($cut) dump is refused with --target --yes (rc=3)" \
    || notok "truncated ($cut) dump is refused with --target --yes (rc=$RC)"
  check "the target is untouched after the truncated ($cut) dump" test "$TGT_FP" == "$(fingerprint "$TGT")"
done

# ================================================================ 5. two backups at once
L="$TMP/lock"; mkdir -p "$L"
( exec 9>>"$L/.backup_db.lock"; flock 9; : >"$L/held"; exec sleep 60 ) &
holder=$!; BG_PIDS+=("$holder")
for _ in $(seq 100); do [[ -e "$L/held" ]] && break; sleep 0.1; done
run "$TMP/l1.out" env BACKUP_DIR="$L" "$BACKUP"
if [[ $RC -ne 0 ]] && grep -qi 'already running' "$TMP/l1.out"; then ok "backup refuses to run while the lock is held (rc=$RC)"
else notok "backup refuses to run while the lock is held (rc=$RC)"; show "$TMP/l1.out"; fi
check "the refused backup wrote nothing" test -z "$(dump_files "$L")"
kill "$holder" 2>/dev/null || true; wait "$holder" 2>/dev/null || true
rm -f -- "$L/held"
run "$TMP/l2.out" env BACKUP_DIR="$L" "$BACKUP"
[[ $RC -eq 0 ]] && ok "backup runs once the lock is released" || { notok "backup runs once the lock is released (rc=$RC)"; show "$TMP/l2.out"; }

# two real runs, the first one slowed down by a pg_dump wrapper
W="$TMP/slowbin"; mkdir -p "$W"
real_pg_dump=$(command -v pg_dump)
printf '#!/bin/sh\n: >"%s"\nsleep 4\nexec "%s" "$@"\n' "$TMP/slow_started" "$real_pg_dump" >"$W/pg_dump"
chmod +x "$W/pg_dump"
L2="$TMP/lock2"; mkdir -p "$L2"
( PATH="$W:$PATH" BACKUP_DIR="$L2" exec "$BACKUP" >"$TMP/l3.out" 2>&1 ) &
slow=$!; BG_PIDS+=("$slow")
# the wrapper runs only once the first backup holds the lock
for _ in $(seq 150); do [[ -e "$TMP/slow_started" ]] && break; sleep 0.1; done
run "$TMP/l4.out" env BACKUP_DIR="$L2" "$BACKUP"
if [[ $RC -ne 0 ]] && grep -qi 'already running' "$TMP/l4.out"; then ok "a second concurrent backup is refused (rc=$RC)"
else notok "a second concurrent backup is refused (rc=$RC)"; show "$TMP/l4.out"; fi
set +e; wait "$slow"; slow_rc=$?; set -e
[[ $slow_rc -eq 0 ]] && ok "the first concurrent backup completes" || { notok "the first concurrent backup completes (rc=$slow_rc)"; show "$TMP/l3.out"; }
n=$(dump_files "$L2" | grep -c . || true)
check "exactly one dump results from the two concurrent runs ($n)" test "$n" -eq 1
check "no temporary files are left after the concurrent runs" only_final_files "$L2"

# ================================================================ 6. retention
fake_dump() { # fake_dump DIR DB DAYS_AGO -> file name
  local ts name
  ts=$(date -u -d "$3 days ago" +%Y%m%dT%H%M%SZ)
  name="$2_$ts.dump"
  echo "fake dump" >"$1/$name"
  (cd "$1" && sha256sum -- "$name" >"$name.sha256")
  touch -d "$3 days ago" -- "$1/$name" "$1/$name.sha256"
  printf '%s' "$name"
}
R="$TMP/ret1"; mkdir -p "$R"
recent=() old=()
for d in 1 2 3; do recent+=("$(fake_dump "$R" "$SRC" "$d")"); done
for d in 40 41 50; do old+=("$(fake_dump "$R" "$SRC" "$d")"); done
other=$(fake_dump "$R" "${P}_otherdb" 60)
run "$TMP/ret1.out" env BACKUP_DIR="$R" BACKUP_KEEP_MIN=3 BACKUP_RETENTION_DAYS=30 "$BACKUP"
[[ $RC -eq 0 ]] && ok "backup with retention settings exits 0" || { notok "backup with retention settings exits 0 (rc=$RC)"; show "$TMP/ret1.out"; }
gone=1; for f in "${old[@]}"; do [[ -e "$R/$f" || -e "$R/$f.sha256" ]] && gone=0; done
check "dumps older than 30 days are pruned together with their .sha256" test "$gone" -eq 1
kept=1; for f in "${recent[@]}"; do [[ -e "$R/$f" && -e "$R/$f.sha256" ]] || kept=0; done
check "recent dumps are kept" test "$kept" -eq 1
n=$(dump_files "$R" | grep -c "^${SRC}_" || true)
check "4 dumps of $SRC remain (3 recent + the new one; found $n)" test "$n" -eq 4
check "dumps of another database are left alone" test -e "$R/$other" -a -e "$R/$other.sha256"

R2="$TMP/ret2"; mkdir -p "$R2"
old=()
for d in 40 41 42 43 44; do old+=("$(fake_dump "$R2" "$SRC" "$d")"); done
run "$TMP/ret2.out" env BACKUP_DIR="$R2" BACKUP_KEEP_MIN=3 BACKUP_RETENTION_DAYS=30 "$BACKUP"
[[ $RC -eq 0 ]] && ok "backup among only old dumps exits 0" || { notok "backup among only old dumps exits 0 (rc=$RC)"; show "$TMP/ret2.out"; }
mapfile -t left < <(dump_files "$R2")
newest=$(grep -vxF -f <(printf '%s\n' "${old[@]}") <<<"$(printf '%s\n' "${left[@]}")" || true)
check "only the newest 3 dumps remain (found ${#left[@]})" test "${#left[@]}" -eq 3
check "they are the new dump and the two newest old ones" \
  test -n "$newest" -a -e "$R2/${old[0]}" -a -e "$R2/${old[1]}"
check "the pruned dumps' .sha256 files are gone, the kept ones' remain" bash -c '
  cd "$1"; shift
  for f in *.sha256; do [[ -e "${f%.sha256}" ]] || exit 1; done
  for f in *.dump; do [[ -e "$f.sha256" ]] || exit 1; done' _ "$R2"

# ================================================================ 7. --target into a non-empty database
run "$TMP/y1.out" "$RESTORE" "$DUMP" --target "$(target_arg "$TGT")"
if [[ $RC -ne 0 ]] && grep -qi 'not empty' "$TMP/y1.out"; then ok "restore into a non-empty --target without --yes is refused (rc=$RC)"
else notok "restore into a non-empty --target without --yes is refused (rc=$RC)"; show "$TMP/y1.out"; fi
check "the refused target is unchanged" test "$TGT_FP" == "$(fingerprint "$TGT")"
run "$TMP/y2.out" "$RESTORE" "$DUMP" --target "$(target_arg "$TGT")" --yes
[[ $RC -eq 0 ]] && ok "restore into a non-empty --target with --yes succeeds (absolute path)" \
  || { notok "restore into a non-empty --target with --yes succeeds (rc=$RC)"; show "$TMP/y2.out"; }
check "row counts in the --yes target match the source" same_counts_for_source_tables "$TGT"
check "objects that are not in the dump are left alone" \
  test "$(q "$TGT" <<<'SELECT count(*) FROM brt_marker;' 2>/dev/null)" == 3

FRESH="${P}_fresh"
run "$TMP/y3.out" "$RESTORE" "$DUMP" --target "$FRESH"
[[ $RC -eq 0 ]] && db_exists "$FRESH" && ok "restore into a missing --target (bare name) creates it" \
  || { notok "restore into a missing --target (bare name) creates it (rc=$RC)"; show "$TMP/y3.out"; }
db_exists "$FRESH" && check "row counts in the created target match the source" same_counts_for_source_tables "$FRESH"

# ================================================================ 8. a failed restore leaves the target as it was
# 8a. an object in the target depends on a table of the dump: the --clean DROP fails.
DEP="${P}_dep"
q "$SRC" -v n="$DEP" <<<'CREATE DATABASE :"n";'
pick=$(awk -F '\t' '$1 ~ /\.schema_migrations$/ { print $1; exit }' <<<"$SRC_COUNTS")
[[ -n "$pick" ]] || pick=$(head -n 1 <<<"$SRC_COUNTS" | cut -f1)
if [[ -n "$pick" ]]; then
  ps=${pick%%.*} pt=${pick#*.}
  q "$DEP" -v s="$ps" -v t="$pt" <<<'SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS :"s";
CREATE TABLE :"s".:"t" (brt_col int);
INSERT INTO :"s".:"t" VALUES (42);
CREATE VIEW public.brt_dependent AS SELECT * FROM :"s".:"t";
CREATE TABLE public.brt_marker(id int);
INSERT INTO public.brt_marker VALUES (1), (2);'
  DEP_FP=$(fingerprint "$DEP")
  run "$TMP/f1.out" "$RESTORE" "$DUMP" --target "$(target_arg "$DEP")" --yes
  if [[ $RC -ne 0 ]]; then ok "restore fails when the target has an object depending on a dumped table (rc=$RC)"
  else notok "restore fails when the target has an object depending on a dumped table"; show "$TMP/f1.out"; fi
  check "after the failed restore the target is exactly as it was" test "$DEP_FP" == "$(fingerprint "$DEP")"
  check "the target's own row in $pick is still there" \
    test "$(q "$DEP" -v s="$ps" -v t="$pt" <<<'SELECT brt_col FROM :"s".:"t";' 2>/dev/null)" == 42
fi

# 8b. failure mid-way (after the DROPs and the first CREATE TABLE), injected by an event trigger
if [[ "$IS_SUPER" == 1 && "$SRC_NTABLES" -ge 2 ]]; then
  MID="${P}_mid"
  run "$TMP/m0.out" "$RESTORE" "$DUMP" --target "$(target_arg "$MID")"
  if [[ $RC -eq 0 ]]; then
    q "$MID" <<<"CREATE TABLE public.brt_marker(id int);
INSERT INTO public.brt_marker SELECT generate_series(1, 5);
CREATE FUNCTION public.brt_fail() RETURNS event_trigger LANGUAGE plpgsql AS \$\$
DECLARE n int := coalesce(nullif(current_setting('brt.n', true), ''), '0')::int + 1;
BEGIN
  PERFORM set_config('brt.n', n::text, false);
  IF n >= 2 THEN RAISE EXCEPTION 'brt: injected failure at CREATE TABLE #%', n; END IF;
END \$\$;
CREATE EVENT TRIGGER brt_fail ON ddl_command_start WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION public.brt_fail();"
    MID_FP=$(fingerprint "$MID")
    run "$TMP/m1.out" "$RESTORE" "$DUMP" --target "$(target_arg "$MID")" --yes
    if [[ $RC -ne 0 ]] && grep -q 'brt: injected failure' "$TMP/m1.out"; then
      ok "restore failing mid-way (injected at the 2nd CREATE TABLE) exits non-zero (rc=$RC)"
    else notok "restore failing mid-way exits non-zero (rc=$RC)"; show "$TMP/m1.out"; fi
    check "after the mid-way failure the target is exactly as it was" test "$MID_FP" == "$(fingerprint "$MID")"
    check "the target's data still matches the source" same_counts_for_source_tables "$MID"
  else
    notok "set up a restored copy for the mid-way failure test (rc=$RC)"; show "$TMP/m0.out"
  fi
else
  skip "restore failing mid-way leaves the target as it was" "needs a superuser (event trigger) and 2+ tables"
fi

# 8c. new-database path: pg_restore fails (GRANT to a role that no longer exists),
#     so the database the script created is dropped again.
if [[ "$CAN_CREATEROLE" == 1 ]]; then
  GDB="${P}_grants"
  q "$SRC" -v n="$GDB" -v r="$ROLE" <<<'CREATE ROLE :"r" NOLOGIN;
CREATE DATABASE :"n";'
  q "$GDB" -v r="$ROLE" <<<'CREATE TABLE schema_migrations(version int PRIMARY KEY, name text);
INSERT INTO schema_migrations VALUES (1, '"'"'init'"'"');
CREATE TABLE secrets(id int);
GRANT SELECT ON secrets TO :"r";'
  G="$TMP/grants"
  run "$TMP/g0.out" with_db "$GDB" env BACKUP_DIR="$G" "$BACKUP"
  gdump=$(find "$G" -maxdepth 1 -name '*.dump' | head -n 1)
  q "$GDB" -v r="$ROLE" <<<'REVOKE ALL ON secrets FROM :"r";'
  q "$SRC" -v r="$ROLE" <<<'DROP ROLE :"r";'
  if [[ -n "$gdump" ]]; then
    before=$(dblist)
    run "$TMP/g1.out" with_db "$GDB" "$RESTORE" "$gdump"
    if [[ $RC -ne 0 ]] && grep -q 'does not exist' "$TMP/g1.out"; then
      ok "restore into a new database fails when pg_restore fails (rc=$RC)"
    else notok "restore into a new database fails when pg_restore fails (rc=$RC)"; show "$TMP/g1.out"; fi
    check "the new database created for the failed restore was dropped" test "$before" == "$(dblist)"
  else
    notok "back up the database with a GRANT (rc=$RC)"; show "$TMP/g0.out"
  fi
else
  skip "a failed restore into a new database drops it" "needs CREATEROLE"
fi

echo "backup_restore: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
