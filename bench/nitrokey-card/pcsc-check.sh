#!/usr/bin/env bash
# Runs the virtual Nitrokey against the real PC/SC stack: a private pcscd (own mount namespace,
# so it doesn't clash with any other pcscd) with a vpcd reader on PORT, the card on PORT, and
# scriptor sending the YKOATH commands of the README's table. Needs root (unshare -m), pcscd,
# vsmartcard-vpcd and pcsc-tools. Stops what it started, by PID.
#
#   bench/nitrokey-card/pcsc-check.sh [PORT]      (default 40300; vpcd also takes PORT+1)
set -euo pipefail

PORT="${1:-40300}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d "/tmp/nitrokey-card-pcsc.XXXXXX")"
READER="Nitrokey Virtual 00 00"
PCSCD_PID=""
CARD_PID=""

cleanup() {
    [ -n "$CARD_PID" ] && kill "$CARD_PID" 2>/dev/null || true
    [ -n "$PCSCD_PID" ] && kill "$PCSCD_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --quiet --manifest-path "$HERE/Cargo.toml"
BIN="$HERE/target/debug/nitrokey-card"

mkdir -p "$WORK/conf" "$WORK/run"
printf 'FRIENDLYNAME "Nitrokey Virtual"\nDEVICENAME /dev/null:%s\nLIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID %s\n' \
    "$PORT" "$PORT" > "$WORK/conf/vpcd"
unshare -m bash -c "mount --make-rprivate /; mkdir -p /run/pcscd; mount --bind '$WORK/run' /run/pcscd && exec pcscd --foreground -c '$WORK/conf'" \
    > "$WORK/pcscd.log" 2>&1 &
PCSCD_PID=$!
export PCSCLITE_CSOCK_NAME="$WORK/run/pcscd.comm"
for _ in $(seq 50); do [ -S "$PCSCLITE_CSOCK_NAME" ] && break; sleep 0.1; done

"$BIN" --port "$PORT" --serial 0xC0FFEE > "$WORK/card.log" 2>&1 &
CARD_PID=$!
for _ in $(seq 50); do grep -q connected "$WORK/card.log" && break; sleep 0.1; done
sleep 0.5

SECRET=$(printf '12345678901234567890' | od -An -tx1 | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
# name "aws", TOTP/HMAC-SHA1, 6 digits, the RFC 6238 test secret; challenge = step 1.
CALC="00 A2 00 01 0F 71 03 61 77 73 74 08 00 00 00 00 00 00 00 01 00"
cat > "$WORK/apdus" <<EOF
00 A4 04 00 07 A0 00 00 05 27 21 01
00 A4 04 00 07 A0 00 00 05 27 21 01 00
00 01 00 00 1D 71 03 61 77 73 73 16 21 06 $SECRET
00 01 00 00 1D 71 03 61 77 73 73 16 21 06 $SECRET
00 A1 00 00 00
$CALC
00 A2 00 00 0F 71 03 61 77 73 74 08 00 00 00 00 00 00 00 01 00
00 A4 00 01 0A 74 08 00 00 00 00 00 00 00 01 00
00 A3 00 00 20 75 14 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 74 08 01 02 03 04 05 06 07 08 00
00 03 00 00 02 73 00 00
00 B2 00 00 06 80 04 31 32 33 34 00
00 B3 00 00 06 80 04 31 32 33 34 00
00 B4 00 00 06 80 04 31 32 33 34 00
00 B4 00 00 06 80 04 35 36 37 38 00
00 B2 00 00 06 80 04 39 39 39 39 00
00 A4 04 00 07 A0 00 00 05 27 21 01 00
00 B2 00 00 06 80 04 31 32 33 34 00
$CALC
00 02 00 00 05 71 03 61 77 73 00
00 02 00 00 05 71 03 61 77 73 00
$CALC
00 A1 00 00 00
00 42 00 00 00
00 04 DE AD 00
EOF
scriptor -r "$READER" "$WORK/apdus" 2>&1 | grep -E '^[<>]|^[0-9A-F]{2} .*: '

# Round-trip time through pcscd: 200 CALCULATEs in one scriptor session.
{ echo "00 A4 04 00 07 A0 00 00 05 27 21 01 00"
  echo "00 01 00 00 1D 71 03 61 77 73 73 16 21 06 $SECRET"
  for _ in $(seq 200); do echo "$CALC"; done; } > "$WORK/timing"
START=$(date +%s%N)
scriptor -r "$READER" "$WORK/timing" > "$WORK/timing.out" 2>&1
END=$(date +%s%N)
echo "200 x CALCULATE through pcscd: $(( (END - START) / 1000000 )) ms total (scriptor start included)"
