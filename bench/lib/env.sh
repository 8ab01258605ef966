# Sourced by bench/demo and bench/walkthrough (bash, as root): starts a private bench and exports
# what ykmfa, the AWS CLI and ykman need to use it. Everything started is stopped on exit.
#   - pcscd in its own mount and network namespaces (its socket in a temporary directory, so the
#     machine's own pcscd, if any, is left alone), with vpcd and a virtual YubiKey 5 (12345678);
#   - the strict IAM endpoint on 127.0.0.1 (moto, checking codes as AWS does);
#   - PATH with ykmfa (the debug build), and `aws` and `ykman` aimed at the bench.
# Needs: root, bench/setup done, $root set to the repository.
venv=$root/.bench/venv
work=$(mktemp -d /tmp/ykmfa-bench.XXXXXX)
bench_pids=()
bench_cleanup() {
  for pid in "${bench_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap bench_cleanup EXIT

mkdir -p "$work/conf" "$work/run" "$work/lib" "$work/bin" /run/pcscd
cp /usr/lib/pcsc/drivers/serial/libifdvpcd.so "$work/lib/vpcd.so"
printf 'FRIENDLYNAME "Yubico YubiKey OTP+FIDO+CCID"\nDEVICENAME /dev/null:35963\nLIBPATH %s\nCHANNELID 35963\n' "$work/lib/vpcd.so" > "$work/conf/yubikey"
unshare -m -n sh -c "ip link set lo up && mount --make-rprivate / && mount --bind '$work/run' /run/pcscd && exec pcscd --foreground -c '$work/conf'" > "$work/pcscd.log" 2>&1 &
pcscd_pid=$!; bench_pids+=("$pcscd_pid")
for _ in $(seq 100); do [ -S "$work/run/pcscd.comm" ] && break; sleep 0.05; done
nsenter --net="/proc/$pcscd_pid/ns/net" "$root/target/debug/virtual-yubikey" --port 35963 --serial 12345678 > "$work/card.log" 2>&1 &
bench_pids+=($!)
"$venv/bin/python" "$root/bench/iam/strict_iam.py" --host 127.0.0.1 --port 0 --port-file "$work/iam.port" > "$work/iam.log" 2>&1 &
bench_pids+=($!)
for _ in $(seq 600); do [ -s "$work/iam.port" ] && break; sleep 0.1; done
[ -s "$work/iam.port" ] || { echo "the strict IAM endpoint did not start: $(cat "$work/iam.log")" >&2; exit 1; }

export PCSCLITE_CSOCK_NAME=$work/run/pcscd.comm
export AWS_ENDPOINT_URL_IAM=http://127.0.0.1:$(cat "$work/iam.port")
export AWS_ENDPOINT_URL_STS=$AWS_ENDPOINT_URL_IAM
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true HOME=$work NO_COLOR=1
ln -s "$root/target/debug/ykmfa" "$work/bin/ykmfa"
# The AWS CLI and ykman from the bench's venv, aimed at the bench.
printf '#!/bin/sh\nexec "%s" --endpoint-url "$AWS_ENDPOINT_URL_IAM" "$@"\n' "$venv/bin/aws" > "$work/bin/aws"
printf '#!/bin/sh\nexec "%s" --reader "Yubico YubiKey OTP+FIDO+CCID 00 00" "$@"\n' "$venv/bin/ykman" > "$work/bin/ykman"
chmod +x "$work/bin/aws" "$work/bin/ykman"
export PATH=$work/bin:$PATH
for _ in $(seq 100); do ykmfa tokens --json 2>/dev/null | grep -q '"serial": 12345678' && break; sleep 0.1; done
