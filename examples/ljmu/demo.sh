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
# time shown in brackets (CONSENT_NOW, in UTC), so record times read like the real
# thing. The ledger keeps the university's calendar (Europe/London): tables show local
# times with their offset, and a date typed on the command line is a local day.
set -euo pipefail

BIN="${1:?usage: demo.sh PATH/TO/consent}"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${CONSENT_DEMO_OUT:-demo-out}"
SEEDS="${CONSENT_SEEDS:-$HERE/../../../shared/seeds}"

if [ -d "$SEEDS" ]; then SEEDS="$(cd "$SEEDS" && pwd)"; fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
rm -f "$OUT"/ledger.db "$OUT"/ledger.db-* "$OUT"/*.json "$OUT"/*.html "$OUT"/*.txt "$OUT"/*.key "$OUT"/*.note "$OUT"/*.csv
rm -rf "$OUT"/keys "$OUT"/published "$OUT"/witness-dpo "$OUT"/witness-jmsu "$OUT"/backup
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
# keygen VAR ARGS...: `consent key generate ARGS...`, echoed; the verifier key it
# prints is shown and kept in VAR.
keygen() {
    local var="$1"
    shift
    printf '\n$ consent %s\n' "$(show key generate "$@")"
    local vkey
    vkey="$("$BIN" key generate "$@")"
    printf '%s\n' "$vkey"
    printf -v "$var" '%s' "$vkey"
}
# nightly TIME: the keeper's nightly job signs the head and publishes it; both witnesses
# cosign it (the ledger proves it extends what each cosigned before); the cosignatures
# are merged into the ledger's copy and published.
nightly() {
    local now="$1"
    at "$now" checkpoint --key "$LOG_KEY" --publish "$PUB" 2>&1
    at "$now" witness cosign --state "$OUT/witness-dpo" --key "$OUT/keys/dpo-witness.key" --log-key "$LOG_VKEY" -o "$OUT/cosigned-dpo.note"
    at "$now" witness cosign --state "$OUT/witness-jmsu" --key "$OUT/keys/jmsu-witness.key" --log-key "$LOG_VKEY" -o "$OUT/cosigned-jmsu.note"
    at "$now" checkpoint add-cosignatures "$OUT/cosigned-dpo.note" "$OUT/cosigned-jmsu.note" --publish "$PUB" 2>&1
}
event_id() { sed -n 's/^  "id": "\([^"]*\)".*/\1/p' | head -n 1; }

echo "consent-ledger demo: LJMU and its students' union, academic year 2024/25"
echo "ledger: $CONSENT_LEDGER"

heading "A new ledger and the registry of purposes and notices"
at 2024-09-01T09:00:00Z init --time-zone Europe/London
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

heading "Keys: the ledger's signing key, and two witnesses who will vouch for what it signs"
note "each private key goes to its own owner-only file, away from the ledger; the verifier"
note "keys printed are what LJMU publishes and what students and auditors check with"
mkdir -p "$OUT/keys"
LOG_KEY="$OUT/keys/ljmu-log.key"
PUB="$OUT/published"
keygen LOG_VKEY --name ljmu.ac.uk/consent -o "$LOG_KEY"
note "the DPO's office and the students' union each run a witness, with their own keys:"
keygen DPO_VKEY --witness --name dpo.ljmu.ac.uk/witness -o "$OUT/keys/dpo-witness.key"
keygen JMSU_VKEY --witness --name jmsu.org.uk/witness -o "$OUT/keys/jmsu-witness.key"

heading "Registration: opt-in to the students' union feed, imported from the IT-registration extract"
at 2024-09-18T23:00:00Z import "$HERE/registration-feed.csv"
note "the same extract again changes nothing (idempotent by source id):"
at 2024-09-19T23:00:00Z import "$HERE/registration-feed.csv"
note "the JMSU feed asks about its recipient, JMSU (the purpose lists it):"
at 2024-09-20T06:00:00Z consenting jmsu.data-sharing --recipient JMSU --head-file "$OUT/jmsu-feed-head.csv"
note "the feed is a plain CSV (spreadsheets and pandas read it as it is); what answered, kept beside it:"
cat "$OUT/jmsu-feed-head.csv"
note "a feed that leaves the recipient out is refused: it could hide a withdrawal from JMSU alone"
refused 3 2024-09-20T06:00:00Z consenting jmsu.data-sharing

heading "Freshers' Fair: a project consent that lasts for the academic year"
at 2024-09-24T13:15:00Z give 770001 jmsu.project.freshers-tasters --notice jmsu.privacy@1 --method web_form \
    --source-id freshers-2024-0517

heading "A paper course-rep form signed on 1 October, typed in on 5 October"
at 2024-10-05T11:20:00Z give 770003 jmsu.course-rep --notice jmsu.privacy@1 --method paper \
    --recorded-by staff:jmsu-0042 --at 2024-10-01 --source-id paper-CR-0193
note "--at 2024-10-01 is the start of 1 October in London (00:00+01:00); a course rep's"
note "consent lasts a year from the start (course_year), to the start of 1 October 2025."
note "Question: on 2 October, was there consent? As the ledger knew it on 3 October:"
at 2024-10-05T11:30:00Z status 770003 jmsu.course-rep --at 2024-10-02 --known-at 2024-10-03
note "...and as it knows it now (the form was signed on 1 October):"
at 2024-10-05T11:30:00Z status 770003 jmsu.course-rep --at 2024-10-02

heading "Mobility: special-category data needs explicit consent"
GRANT="$(quiet 2025-01-10T15:00:00Z --json give 770001 mobility.health --notice ljmu.international-relations@1 \
    --method web_form --explicit --evidence '{"statement":"I explicitly consent to LJMU processing my health information for my exchange"}' \
    | event_id)"
printf '\n[2025-01-10T15:00:00Z] $ consent give 770001 mobility.health --explicit ...\n'
note "recorded: event $GRANT (for every recipient the purpose lists)"
note "A grant for vaccination status without the explicit marker is refused:"
refused 4 2025-01-10T15:05:00Z give 770002 mobility.vaccination --notice ljmu.international-relations@1 --method web_form
note "...and so is one naming a notice that does not cover the purpose (JMSU's, for LJMU's mobility data):"
refused 4 2025-01-10T15:06:00Z give 770002 mobility.vaccination --notice jmsu.privacy@1 --method web_form --explicit

heading "A consent receipt for the student, on a checkpoint two witnesses cosigned"
note "the keeper signs the head with the log key and publishes it in $PUB;"
note "each witness cosigns it (the first checkpoint of a log is taken on trust):"
nightly 2025-01-10T15:10:00Z
note "the receipt proves the grant, its purpose definition, the notice and the ledger's clock"
note "in the latest checkpoint, with its cosignatures:"
at 2025-01-10T15:10:00Z receipt "$GRANT" --checkpoint latest -o "$OUT/receipt-770001-mobility.json"
at 2025-01-10T15:10:00Z receipt "$GRANT" --format kantara --checkpoint latest -o "$OUT/receipt-770001-mobility.kantara.json"
note "the student checks it with the published verifier keys alone (no ledger needed),"
note "asking for both witnesses:"
at 2025-01-10T15:11:00Z check-receipt "$OUT/receipt-770001-mobility.json" --log-key "$LOG_VKEY" \
    --witness-key "$DPO_VKEY" --witness-key "$JMSU_VKEY" --quorum 2
note "what it says (ISO/IEC TS 27560 fields; the Kantara v1.1 layout is beside it):"
grep -E '"(record_id|state|collection_method|explicit|recorded_by|article_6|special_category|method|clock)"' \
    "$OUT/receipt-770001-mobility.json" | sed 's/^ */     /'
HEAD_RECEIPT="$(quiet 2025-01-10T15:11:00Z head)"

heading "A course rep on a January-start course: the year counts from the course start"
at 2025-01-20T10:00:00Z give 770005 jmsu.course-rep --notice jmsu.privacy@1 --method web_form \
    --validity-from 2025-01-13
note "in force through the first year of the course; it lapses at the start of 13 January 2026:"
at 2025-01-20T10:05:00Z status 770005 jmsu.course-rep --at 2026-01-12T18:00
at 2025-01-20T10:05:00Z status 770005 jmsu.course-rep --at 2026-01-13

heading "Opt-out in My LJMU: the feed must honour it within 24 hours"
at 2025-03-03T10:00:00Z withdraw 770002 jmsu.data-sharing --method portal
at 2025-03-03T12:00:00Z status 770002 jmsu.data-sharing --recipient JMSU
note "the feed extract made two hours later no longer lists 770002;"
note "JMSU's copy must be gone by the deadline above (24 hours after the opt-out):"
at 2025-03-03T12:00:00Z consenting jmsu.data-sharing --recipient JMSU
note "Was 770002's consent in force on 1 February? (a withdrawal is not retroactive)"
at 2025-03-03T12:05:00Z status 770002 jmsu.data-sharing --recipient JMSU --at 2025-02-01
note "a script asks by exit code: --check exits 0 when permitted, 11 when not"
at 2025-03-03T12:06:00Z status 770001 jmsu.data-sharing --recipient JMSU --check
refused 11 2025-03-03T12:06:00Z status 770002 jmsu.data-sharing --recipient JMSU --check

heading "The students' union feed acts on the opt-out, and the ledger watches its deadline"
note "jmsu.feed (registered by the registry) sees only jmsu.data-sharing events for JMSU:"
note "never the mobility or wellbeing consents of the same students"
at 2025-03-03T12:10:00Z feed jmsu.feed
LAST_SEEN="$(quiet 2025-03-03T12:10:00Z --json feed jmsu.feed \
    | sed -n 's/^  "next": \([0-9]*\),*$/\1/p')"
note "a day later JMSU has not acknowledged the opt-out: for monitoring, exit 12"
refused 12 2025-03-04T11:00:00Z overdue
note "JMSU deletes 770002's data and acknowledges everything its feed showed:"
at 2025-03-04T11:30:00Z ack jmsu.feed --up-to "$((LAST_SEEN - 1))" --recorded-by system:jmsu-feed
note "nothing overdue now; the late acknowledgement stays on record for the DPO:"
at 2025-03-04T11:35:00Z overdue --all
note "the feed continues after what was acknowledged:"
at 2025-03-04T11:40:00Z feed jmsu.feed

heading "My Engagement: a 'withdrawal' from monitoring that rests on legitimate interests"
note "engagement.monitoring is not consent-based (Art. 6(1)(f)): the request is an objection (Art. 21)"
at 2025-03-10T09:00:00Z withdraw 770003 engagement.monitoring --method portal
at 2025-03-10T09:05:00Z status 770003 engagement.monitoring
note "only a person may decide that compelling legitimate grounds override it:"
refused 2 2025-03-20T14:00:00Z overrule-objection 770003 engagement.monitoring
at 2025-03-20T14:00:00Z overrule-objection 770003 engagement.monitoring --recorded-by staff:dpo-01 \
    --evidence '{"decision":"DPO-2025-031: attendance monitoring required by the student visa sponsor"}'
at 2025-03-20T14:05:00Z status 770003 engagement.monitoring

heading "A material change: mobility.health gains a recipient"
note "International Relations will share health information with the travel insurer too:"
at 2025-04-01T09:00:00Z purpose add mobility.health --title "Health information for a mobility programme" \
    --controller "LJMU International Relations" --basis a --special-category a \
    --withdrawal-method "Email GoAbroad@ljmu.ac.uk." \
    --recipient dfe --recipient british-council --recipient european-commission \
    --recipient partner-university --recipient placement-provider --recipient travel-provider \
    --recipient travel-insurer
note "770001 agreed to version 1, before the insurer was named: the grant no longer permits"
at 2025-04-02T09:00:00Z status 770001 mobility.health --recipient partner-university
note "the student is asked again and agrees; the new grant renews consent under version 2"
at 2025-04-10T11:00:00Z give 770001 mobility.health --notice ljmu.international-relations@1 --method web_form --explicit
at 2025-04-10T11:05:00Z status 770001 mobility.health --recipient travel-insurer

heading "The academic year ends at midnight in Liverpool (BST), not at midnight UTC"
note "the project consent lapses at the start of 1 August, London time: 31 July 23:00 UTC"
at 2025-08-02T09:00:00Z status 770001 jmsu.project.freshers-tasters --at 2025-07-31T23:30
note "at 00:45 BST on 1 August it has lapsed, though in UTC it is still 31 July (23:45Z):"
at 2025-08-02T09:00:00Z status 770001 jmsu.project.freshers-tasters --at 2025-08-01T00:45
at 2025-08-02T09:00:00Z --utc status 770001 jmsu.project.freshers-tasters --at 2025-07-31T23:45
at 2025-08-02T09:00:00Z consenting jmsu.project.freshers-tasters

heading "A subject access request from 770001"
at 2025-09-15T10:00:00Z history 770001
at 2025-09-15T10:00:00Z export 770001 -o "$OUT/sar-770001.json"
note "and the copy to hand to the student, in plain words:"
at 2025-09-15T10:00:00Z export-subject 770001 --format html -o "$OUT/sar-770001.html"

heading "Months later, the receipt is checked against the current head"
HEAD_NOW="$(quiet 2025-09-15T10:05:00Z head)"
note "the head now is $HEAD_NOW; without a consistency proof the check says what it needs:"
refused 7 2025-09-15T10:05:00Z check-receipt "$OUT/receipt-770001-mobility.json" --log-key "$LOG_VKEY" --witness-key "$DPO_VKEY" --witness-key "$JMSU_VKEY" --quorum 2 --head "$HEAD_NOW"
at 2025-09-15T10:05:00Z prove consistency "$HEAD_RECEIPT" -o "$OUT/consistency.json"
at 2025-09-15T10:06:00Z check-receipt "$OUT/receipt-770001-mobility.json" --log-key "$LOG_VKEY" --witness-key "$DPO_VKEY" --witness-key "$JMSU_VKEY" --quorum 2 --head "$HEAD_NOW" --consistency "$OUT/consistency.json"
note "a receipt whose collection method was altered (web form -> paper) is rejected:"
sed -E 's/"collection_method": "web_form"/"collection_method": "paper"/' \
    "$OUT/receipt-770001-mobility.json" > "$OUT/receipt-tampered.json"
if cmp -s "$OUT/receipt-770001-mobility.json" "$OUT/receipt-tampered.json"; then
    echo "demo: the tampering did not change the receipt" >&2
    exit 1
fi
refused 1 2025-09-15T10:07:00Z check-receipt "$OUT/receipt-tampered.json" --log-key "$LOG_VKEY" --witness-key "$DPO_VKEY" --witness-key "$JMSU_VKEY" --quorum 2

heading "Six years after leaving: 770002 is erased"
note "first a dry run: what would be blanked (nothing is written)"
HEAD_BEFORE="$(quiet 2031-09-01T08:59:00Z head)"
at 2031-09-01T09:00:00Z erase 770002 --dry-run --reason "retention period ended (six years after leaving)"
if [ "$(quiet 2031-09-01T09:00:00Z head)" != "$HEAD_BEFORE" ]; then
    echo "demo: the dry run wrote to the ledger" >&2
    exit 1
fi
note "head unchanged: $HEAD_BEFORE"
note "a mistyped id (a digit missing) is refused, not recorded as an erasure:"
refused 3 2031-09-01T09:00:30Z erase 77002 --reason "retention period ended (six years after leaving)" --recorded-by staff:dpo-01
at 2031-09-01T09:01:00Z erase 770002 --reason "retention period ended (six years after leaving)" --recorded-by staff:dpo-01
at 2031-09-01T09:02:00Z history 770002
note "the log keeps the erased events, their personal fields blank, so every hash still verifies:"
at 2031-09-01T09:02:00Z changes --since 20 --limit 10
at 2031-09-01T09:02:00Z status 770002 jmsu.data-sharing --recipient JMSU
note "a withdrawal can still be recorded after the erasure:"
at 2031-09-02T08:00:00Z withdraw 770002 jmsu.marketing --method email --recorded-by staff:dpo-01

heading "The yearly retention run: a file of ids, one report"
(umask 077 && printf '# left in 2025, retention ended\n770004\n77OO4\n' > "$OUT/retention-2031.txt")
note "$OUT/retention-2031.txt holds 770004 and a garbled 77OO4; the run erases one, reports the other (exit 5):"
refused 5 2031-09-03T09:00:00Z erase --from-file "$OUT/retention-2031.txt" --reason "retention period ended" \
    --recorded-by staff:dpo-01 --report "$OUT/retention-2031-report.json"

heading "A returning student: 770002 enrols again in 2032"
at 2032-09-10T09:00:00Z readmit 770002 --reason "re-enrolled for 2032/33" --recorded-by staff:registry-07
at 2032-09-16T09:30:00Z give 770002 jmsu.data-sharing --notice jmsu.privacy@1 --method portal --recorded-by system:it-registration
at 2032-09-16T09:31:00Z status 770002 jmsu.data-sharing --recipient JMSU
note "history shows the old, blanked events, the erasure, the readmission and the new grant:"
at 2032-09-16T09:32:00Z history 770002

heading "Verify: every hash recomputed; the log still extends the heads kept earlier"
at 2032-09-16T09:35:00Z verify
at 2032-09-16T09:35:00Z verify --against "$HEAD_START"
at 2032-09-16T09:35:00Z verify --against "$HEAD_RECEIPT"

heading "The nightly checkpoint: signed, cosigned by both witnesses, published"
note "each witness now cosigns only with a proof that the log extends what it cosigned in January:"
nightly 2032-09-16T23:00:00Z
at 2032-09-16T23:01:00Z checkpoint list
note "an auditor checks the ledger against the published, cosigned checkpoint:"
at 2032-09-17T08:00:00Z verify --log-key "$LOG_VKEY" --witness-key "$DPO_VKEY" --witness-key "$JMSU_VKEY" \
    --quorum 2 --checkpoint "$PUB"
note "the nightly backup is taken:"
mkdir -p "$OUT/backup"
printf '\n$ cp ledger.db backup/\n'
cp "$OUT/ledger.db" "$OUT/backup/ledger.db"

heading "770002 opts out of the union feed again; the withdrawal is checkpointed and receipted"
WITHDRAWAL="$(quiet 2032-10-01T12:00:00Z --json withdraw 770002 jmsu.data-sharing --method portal | event_id)"
printf '\n[2032-10-01T12:00:00Z] $ consent withdraw 770002 jmsu.data-sharing --method portal\n'
note "recorded: event $WITHDRAWAL"
nightly 2032-10-01T23:00:00Z
at 2032-10-01T23:05:00Z receipt "$WITHDRAWAL" --checkpoint latest -o "$OUT/receipt-770002-withdrawal.json"
at 2032-10-01T23:05:00Z status 770002 jmsu.data-sharing --recipient JMSU

heading "An insider rewrites the ledger: the withdrawal disappears"
note "someone with write access to the ledger file restores last night's backup over it, and"
note "records another event in place of the withdrawal, so the size is the same again:"
printf '\n$ cp backup/ledger.db ledger.db\n'
cp "$OUT/backup/ledger.db" "$OUT/ledger.db"
at 2032-10-02T09:00:00Z give 770001 jmsu.course-rep --notice jmsu.privacy@1 --method web_form
note "JMSU's feed would list 770002 again:"
at 2032-10-02T09:05:00Z status 770002 jmsu.data-sharing --recipient JMSU
note "every hash is consistent, and so are the ledger's own checkpoints (restored with it):"
at 2032-10-02T09:10:00Z verify --log-key "$LOG_VKEY"

heading "...and is caught by every copy held elsewhere"
note "1. the published, cosigned checkpoint no longer holds:"
refused 1 2032-10-02T09:15:00Z verify --log-key "$LOG_VKEY" --witness-key "$DPO_VKEY" --witness-key "$JMSU_VKEY" \
    --quorum 2 --checkpoint "$PUB"
note "2. the student's receipt still checks with the keys alone: the withdrawal was recorded"
note "   in a checkpoint both witnesses cosigned, whatever the ledger says now:"
at 2032-10-02T09:20:00Z check-receipt "$OUT/receipt-770002-withdrawal.json" --log-key "$LOG_VKEY" \
    --witness-key "$DPO_VKEY" --witness-key "$JMSU_VKEY" --quorum 2
note "3. the insider signs the rewritten head with the log key; the publish directory refuses it:"
refused 1 2032-10-02T23:00:00Z checkpoint --key "$LOG_KEY" --publish "$PUB"
note "4. and each witness refuses it, keeping both signed checkpoints as evidence:"
refused 1 2032-10-02T23:00:00Z witness cosign --state "$OUT/witness-dpo" --key "$OUT/keys/dpo-witness.key" --log-key "$LOG_VKEY"
refused 1 2032-10-02T23:00:00Z witness cosign --state "$OUT/witness-jmsu" --key "$OUT/keys/jmsu-witness.key" --log-key "$LOG_VKEY"
at 2032-10-02T23:05:00Z witness show --state "$OUT/witness-dpo" --key "$OUT/keys/dpo-witness.key"

printf '\ndemo complete: ledger, keys, published checkpoints, witness states, receipts, proof,\nsubject-access copies and erasure report in %s\n' "$OUT"
