# Shared by run.sh and ci.sh; sourced with the repository root as the
# working directory. The targets are whatever `cargo fuzz list` prints, that
# is every [[bin]] in fuzz/Cargo.toml: adding a target needs no change here.

# `none` builds with stable flags only. `address` needs -Zsanitizer, so on a
# stable toolchain it is enabled with RUSTC_BOOTSTRAP=1 (see README.md).
FUZZ_SANITIZER="${FUZZ_SANITIZER:-none}"
fuzz_flags=(--fuzz-dir fuzz --sanitizer "$FUZZ_SANITIZER")
if [[ $FUZZ_SANITIZER != none ]] && ! rustc -V | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi

# libFuzzer options for every run. -timeout bounds one input (the default,
# 1200 s, would let a hang stall CI for 20 minutes); no input of these
# targets takes more than milliseconds.
fuzz_libfuzzer_flags=(-timeout=25 -print_final_stats=1)

fuzz_targets() {
    if [[ -n ${FUZZ_TARGETS:-} ]]; then
        printf '%s\n' $FUZZ_TARGETS
    else
        cargo fuzz list --fuzz-dir fuzz
    fi
}

fuzz_build() {
    cargo fuzz build "${fuzz_flags[@]}"
}

# fuzz_run TARGET SECONDS: runs one target from its corpus directory, logs
# to fuzz/target/logs/TARGET.log and prints one summary line. Returns the
# fuzzer's status.
fuzz_run() {
    local target=$1 seconds=$2
    local log="fuzz/target/logs/$target.log" status=0
    mkdir -p fuzz/target/logs "fuzz/corpus/$target"
    cargo fuzz run "${fuzz_flags[@]}" "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" "${fuzz_libfuzzer_flags[@]}" >"$log" 2>&1 || status=$?
    # The last status line, e.g.
    # "#1629785  DONE   cov: 1806 ft: 5456 corp: 1579/716Kb lim: 4096 exec/s: 17909 rss: 35Mb"
    local last
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
    local execs cov ft corp rate
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | tail -n 1 | cut -d' ' -f2)
    ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | tail -n 1 | cut -d' ' -f2)
    corp=$(grep -oE 'corp: [^ ]+' <<<"$last" | tail -n 1 | cut -d' ' -f2)
    if [[ $status -eq 0 ]]; then
        printf '%-14s ok     %ss  execs %s  exec/s %s  cov %s  ft %s  corpus %s\n' \
            "$target" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
        printf '%-14s last   %s\n' "$target" "$last"
    else
        printf '%-14s FAILED (status %s) after %s execs; log: %s\n' \
            "$target" "$status" "${execs:-?}" "$log"
        # The panic message, the artifact and how to reproduce it.
        grep -E -A4 'panicked at|SUMMARY|Test unit written|^Reproduce with|^\s+cargo fuzz run' "$log" | head -n 40 || true
        local artifact
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        if [[ -n $artifact && -f $artifact ]]; then
            echo "--- input (cargo fuzz fmt):"
            cargo fuzz fmt "${fuzz_flags[@]}" "$target" "$artifact" 2>&1 | tail -n 80 || true
        fi
    fi
    return "$status"
}

# fuzz_run_all SECONDS: runs every target in turn (one core each; the
# machine is shared), then fails if any target failed.
fuzz_run_all() {
    local seconds=$1 failed=()
    local target
    for target in $(fuzz_targets); do
        fuzz_run "$target" "$seconds" || failed+=("$target")
    done
    if [[ ${#failed[@]} -gt 0 ]]; then
        echo "fuzz: failed: ${failed[*]} (inputs in fuzz/artifacts/)"
        return 1
    fi
}
