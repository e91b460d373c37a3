#!/usr/bin/env bash
# The LJMU / JMSU scenario of the five privacy notices, played on a fresh ledger.
#
#   bash examples/ljmu/demo.sh target/release/consent      (what `make demo` runs)
#
# $1 is the `consent` binary. Output goes to ./demo-out (gitignored), or to
# $CONSENT_DEMO_OUT. The notice texts are read from ../shared/seeds when present (or
# $CONSENT_SEEDS) to show that the registry's hashes match them.
#
# The story runs through the academic year 2024/25; each step pretends "now" is the
# date shown in brackets (CONSENT_NOW), so record times read like the real thing.
set -euo pipefail

BIN="${1:?usage: demo.sh PATH/TO/consent}"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${CONSENT_DEMO_OUT:-demo-out}"
SEEDS="${CONSENT_SEEDS:-$HERE/../../../shared/seeds}"

if [ -d "$SEEDS" ]; then SEEDS="$(cd "$SEEDS" && pwd)"; fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
rm -f "$OUT"/ledger.db "$OUT"/ledger.db-* "$OUT"/*.json
export CONSENT_LEDGER="$OUT/ledger.db"
unset CONSENT_NOW

step=0
heading() {
    step=$((step + 1))
    printf '\n== %d. %s ==\n' "$step" "$1"
}
note() { printf '   %s\n' "$*"; }
# show ARGS...: the arguments as a person would type them (quoted where needed).
show() {
    local out="" a
    for a in "$@"; do
        if [[ "$a" =~ ^[A-Za-z0-9_./:@,=+-]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi
    done
    printf '%s' "${out# }"
}
# at TIME consent ARGS...: run the CLI as if it were TIME, echoing the command.
at() {
    local now="$1"
    shift
    printf '\n[%s] $ consent %s\n' "$now" "$(show "$@")"
    CONSENT_NOW="$now" "$BIN" "$@"
}
# quiet TIME ARGS...: as `at`, without echoing (for ids captured by the script).
quiet() {
    local now="$1"
    shift
    CONSENT_NOW="$now" "$BIN" "$@"
}
# refused CODE TIME ARGS...: a command that must fail with exit code CODE.
refused() {
    local want="$1" now="$2"
    shift 2
    printf '\n[%s] $ consent %s\n' "$now" "$(show "$@")"
    local rc=0
    CONSENT_NOW="$now" "$BIN" "$@" 2>&1 || rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "demo: expected exit $want, got $rc" >&2
        exit 1
    fi
    note "(exit $rc, as expected)"
}
event_id() { sed -n 's/^  "id": "\([^"]*\)".*/\1/p' | head -n 1; }

echo "consent-ledger demo: LJMU and its students' union, academic year 2024/25"
echo "ledger: $CONSENT_LEDGER"

heading "A new ledger and the registry of purposes and notices"
at 2024-09-01T09:00:00Z init
if [ -d "$SEEDS" ]; then
    note "notice texts found in $SEEDS: their SHA-256 is checked against the registry"
    at 2024-09-01T09:00:00Z registry load "$HERE/registry.toml" --texts "$SEEDS"
else
    note "notice texts not found; the registry's stored hashes are used unchecked"
    at 2024-09-01T09:00:00Z registry load "$HERE/registry.toml"
fi
at 2024-09-01T09:00:00Z purpose show jmsu.data-sharing
HEAD_START="$(quiet 2024-09-01T09:00:00Z head)"
note "head kept by the DPO: $HEAD_START"

heading "Registration: opt-in to the students' union feed, imported from the IT-registration extract"
at 2024-09-18T23:00:00Z import "$HERE/registration-feed.csv"
note "the same extract again changes nothing (idempotent by source id):"
at 2024-09-19T23:00:00Z import "$HERE/registration-feed.csv"
at 2024-09-20T06:00:00Z consenting jmsu.data-sharing

heading "Freshers' Fair: a project consent that lasts for the academic year"
at 2024-09-24T13:15:00Z give 770001 jmsu.project.freshers-tasters --notice jmsu.privacy@1 --method web_form \
    --source-id freshers-2024-0517

heading "A paper course-rep form signed on 1 October, typed in on 5 October"
at 2024-10-05T11:20:00Z give 770003 jmsu.course-rep --notice jmsu.privacy@1 --method paper \
    --recorded-by staff:jmsu-0042 --at 2024-10-01 --source-id paper-CR-0193
note "Question: on 2 October, was there consent? As the ledger knew it on 3 October:"
at 2024-10-05T11:30:00Z status 770003 jmsu.course-rep --at 2024-10-02 --known-at 2024-10-03
note "...and as it knows it now (the form was signed on 1 October):"
at 2024-10-05T11:30:00Z status 770003 jmsu.course-rep --at 2024-10-02

heading "Mobility: special-category data needs explicit consent"
GRANT="$(quiet 2025-01-10T15:00:00Z --json give 770001 mobility.health --notice ljmu.international-relations@1 \
    --method web_form --explicit --evidence '{"statement":"I explicitly consent to LJMU processing my health information for my exchange"}' \
    | event_id)"
printf '\n[2025-01-10T15:00:00Z] $ consent give 770001 mobility.health --explicit ...\n'
note "recorded: event $GRANT"
note "A grant for vaccination status without the explicit marker is refused:"
refused 4 2025-01-10T15:05:00Z give 770002 mobility.vaccination --notice ljmu.international-relations@1 --method web_form

heading "A consent receipt for the student"
at 2025-01-10T15:10:00Z receipt "$GRANT" -o "$OUT/receipt-770001-mobility.json"
at 2025-01-10T15:10:00Z receipt "$GRANT" --format kantara -o "$OUT/receipt-770001-mobility.kantara.json"
note "the student checks it (no ledger needed):"
at 2025-01-10T15:11:00Z check-receipt "$OUT/receipt-770001-mobility.json"
note "what it says (ISO/IEC TS 27560 fields; the Kantara v1.1 layout is beside it):"
grep -E '^  "(record_id|state|collection_method|explicit|recorded_by)"|"(article_6|special_category|method|head|leaf_hash)"' \
    "$OUT/receipt-770001-mobility.json" | sed 's/^ */     /'
HEAD_RECEIPT="$(quiet 2025-01-10T15:11:00Z head)"

heading "Opt-out in My LJMU: the feed must honour it within 24 hours"
at 2025-03-03T10:00:00Z withdraw 770002 jmsu.data-sharing --method portal
at 2025-03-03T12:00:00Z status 770002 jmsu.data-sharing
note "the feed extract made two hours later no longer lists 770002;"
note "JMSU's copy must be gone by the deadline above (24 hours after the opt-out):"
at 2025-03-03T12:00:00Z consenting jmsu.data-sharing
note "Was 770002's consent in force on 1 February? (a withdrawal is not retroactive)"
at 2025-03-03T12:05:00Z status 770002 jmsu.data-sharing --at 2025-02-01

heading "The project consent lapses on 31 July"
at 2025-08-02T09:00:00Z status 770001 jmsu.project.freshers-tasters --at 2025-07-31T12:00:00Z
at 2025-08-02T09:00:00Z status 770001 jmsu.project.freshers-tasters
at 2025-08-02T09:00:00Z consenting jmsu.project.freshers-tasters

heading "A subject access request from 770001"
at 2025-09-15T10:00:00Z history 770001
at 2025-09-15T10:00:00Z export 770001 -o "$OUT/sar-770001.json"

heading "Months later, the receipt is checked against the current head"
HEAD_NOW="$(quiet 2025-09-15T10:05:00Z head)"
note "the head now is $HEAD_NOW; without a consistency proof the check says what it needs:"
refused 7 2025-09-15T10:05:00Z check-receipt "$OUT/receipt-770001-mobility.json" --head "$HEAD_NOW"
at 2025-09-15T10:05:00Z prove consistency "$HEAD_RECEIPT" -o "$OUT/consistency.json"
at 2025-09-15T10:06:00Z check-receipt "$OUT/receipt-770001-mobility.json" --head "$HEAD_NOW" --consistency "$OUT/consistency.json"
note "a receipt whose leaf hash was altered is rejected:"
# flip the first hex digit of the leaf hash (0 -> 1, anything else -> 0)
sed -E 's/"leaf_hash": "0/"leaf_hash": "X/; s/"leaf_hash": "[1-9a-f]/"leaf_hash": "0/; s/"leaf_hash": "X/"leaf_hash": "1/' \
    "$OUT/receipt-770001-mobility.json" > "$OUT/receipt-tampered.json"
if cmp -s "$OUT/receipt-770001-mobility.json" "$OUT/receipt-tampered.json"; then
    echo "demo: the tampering did not change the receipt" >&2
    exit 1
fi
refused 1 2025-09-15T10:07:00Z check-receipt "$OUT/receipt-tampered.json"

heading "Six years after leaving: 770002 is erased"
at 2031-09-01T09:00:00Z erase 770002 --reason "retention period ended (six years after leaving)" --actor staff:dpo-01
at 2031-09-01T09:01:00Z history 770002
note "the log keeps the erased events, their personal fields blank, so every hash still verifies:"
at 2031-09-01T09:01:00Z changes --since 20 --limit 10
at 2031-09-01T09:01:00Z status 770002 jmsu.data-sharing
note "a withdrawal can still be recorded after the erasure:"
at 2031-09-02T08:00:00Z withdraw 770002 jmsu.marketing --method email --recorded-by staff:dpo-01

heading "Verify: every hash recomputed; the log still extends the heads kept earlier"
at 2031-09-02T08:05:00Z verify
at 2031-09-02T08:05:00Z verify --against "$HEAD_START"
at 2031-09-02T08:05:00Z verify --against "$HEAD_RECEIPT"

printf '\ndemo complete: ledger, receipts, proof and subject-access copy in %s\n' "$OUT"
