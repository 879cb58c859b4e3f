#!/usr/bin/env bash
# Security gate (issue 7): static analysis, ERC conformance, invariant and fuzz tests, symbolic
# proofs and the mutation check of contracts/. Every step runs, each under its own header; the gate
# exits non-zero if any failed. Run it with `make security` (which installs what is missing first).
#
#   SECURITY_STEPS="slither erc forge halmos mutation"   the steps to run (default: all)
#   FOUNDRY_PROFILE=deep                                 invariants 2,000 runs x 300 calls, fuzz 10,000
#                                                        runs (default profile, CI: 256 x 100, fuzz 512)
set -uo pipefail
cd "$(dirname "$0")/.."

ROOT="$PWD"
PY="$ROOT/.venv/bin/python"
FORGE_BIN="$ROOT/node_modules/@foundry-rs/forge-linux-amd64/bin"
export PATH="$FORGE_BIN:$ROOT/.venv/bin:$PATH"
WORK="$ROOT/.cache/security"
STEPS="${SECURITY_STEPS:-slither erc forge halmos mutation}"
mkdir -p "$WORK"
# The compiled project for Slither lives outside the project: under it, crytic-compile would take
# the exported file for a Foundry project (it walks up to foundry.toml) and try to rebuild it.
EXPORT_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ipledger-slither.XXXXXX")"
EXPORT="$EXPORT_DIR/ipledger_export.json"
trap 'rm -rf "$EXPORT_DIR"' EXIT

missing=()
[ -x "$FORGE_BIN/forge" ] || missing+=("forge ($FORGE_BIN/forge): run \`npm ci\`")
[ -x "$ROOT/.venv/bin/slither" ] || missing+=("slither (.venv/bin/slither): run \`make install\`")
[ -x "$ROOT/.venv/bin/halmos" ] || missing+=("halmos (.venv/bin/halmos): run \`make install\`")
if [ "${#missing[@]}" -ne 0 ]; then
  printf 'security gate: missing tools:\n' >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 2
fi

failed=()
timings=()
gate_start=$(date +%s)

step() {  # step NAME COMMAND...: run one step under a header, record its verdict and time
  local name="$1"; shift
  case " $STEPS " in *" $name "*) ;; *) return 0 ;; esac
  echo
  echo "================================================================================"
  echo "== security gate: $name"
  echo "================================================================================"
  local start=$(date +%s)
  if "$@"; then
    timings+=("$name ok $(( $(date +%s) - start ))s")
  else
    failed+=("$name")
    timings+=("$name FAILED $(( $(date +%s) - start ))s")
  fi
}

# -- 1. Slither over contracts/ (compiled once by forge with the solcjs shim; OpenZeppelin, the
#       test-only contracts/test/ and the Foundry tests filtered out). High/Medium fail the gate;
#       every Low/Informational finding must be in security/slither-triage.md.
compile_for_slither() {
  rm -rf "$EXPORT_DIR/crytic"
  # crytic-compile drives `forge build --build-info` (skipping test/): the same compiler as the rest.
  crytic-compile . --export-format standard --export-dir "$EXPORT_DIR/crytic" >"$WORK/crytic.log" 2>&1 \
    || { cat "$WORK/crytic.log"; return 1; }
  mv "$EXPORT_DIR/crytic/"*.json "$EXPORT" || { cat "$WORK/crytic.log"; return 1; }
  rm -rf "$EXPORT_DIR/crytic"
}
run_slither() {
  compile_for_slither || return 1
  rm -f "$WORK/slither.json"
  slither "$EXPORT" --filter-paths "node_modules|contracts/test/|test/foundry/" \
    --json "$WORK/slither.json" >"$WORK/slither.log" 2>&1
  [ -s "$WORK/slither.json" ] || { cat "$WORK/slither.log"; return 1; }
  # A source Slither could not resolve is a contract it did not analyse (a remapping that lets the
  # compiler load one library file twice does that): that fails the gate, it is not a pass.
  if grep -E '^ERROR:|Failed to resolve' "$WORK/slither.log"; then
    echo "slither: the compiled project did not parse (above); findings would be incomplete"; return 1
  fi
  "$PY" security/check_slither.py "$WORK/slither.json"
}

# -- 2. slither-check-erc: the ERC-721 registry and the ERC-20 settlement token conform.
#       Allowed, with its reason: OpenZeppelin 5's ERC-20 has no increaseAllowance, so the
#       approval race note stays (EIP-20's own advice: approve 0 first, or approve exactly).
run_erc() {
  [ -s "$EXPORT" ] || compile_for_slither || return 1
  local status=0 pair contract erc out
  for pair in IPRegistry:erc721 SettlementToken:erc20; do
    contract="${pair%%:*}"; erc="${pair##*:}"
    if ! grep -q "contract $contract " contracts/*.sol; then echo "$contract: not in contracts/ (skipped)"; continue; fi
    out="$(slither-check-erc "$EXPORT" "$contract" --erc "$erc" 2>&1)"
    if printf '%s\n' "$out" | grep -q -E '^ERROR:|Failed to resolve'; then
      echo "$contract ($erc): the compiled project did not parse"; printf '%s\n' "$out" | grep -E '^ERROR:|Failed to resolve' | head -20
      status=1; continue
    fi
    local fails
    fails="$(printf '%s\n' "$out" | grep -F '[ ]' | grep -v -F 'is not protected for the ERC20 approval race condition')"
    local checks
    checks="$(printf '%s\n' "$out" | grep -c -F '[✓]')"
    if [ -n "$fails" ] || [ "$checks" -lt 10 ]; then
      echo "$contract ($erc): does NOT conform"; printf '%s\n' "$out"; status=1
    else
      echo "$contract ($erc): conforms ($checks checks passed)"
    fi
  done
  return $status
}

# -- 3. Foundry: invariants (CI depth from foundry.toml), fuzz tests and the handler's coverage test.
run_forge() {
  forge test --no-match-contract 'Check$' 2>&1 | tee "$WORK/forge.log" \
    | grep -v -E '^\|-|^╭|^╰|^\+=' ; return "${PIPESTATUS[0]}"
}

# -- 4. Halmos: the bank's rules, proven for all inputs (test/foundry/halmos, check_*).
run_halmos() {
  "$PY" security/halmos_run.py --config security/halmos.toml 2>&1 | tee "$WORK/halmos.log" \
    | grep -E 'PASS|FAIL|WARN|ERROR|Counterexample|result|Error' ; return "${PIPESTATUS[0]}"
}

# -- 5. Mutation check: every guard the rules depend on, removed one at a time, is caught.
run_mutation() {
  "$PY" scripts/mutation_check.py
}

step slither run_slither
step erc run_erc
step forge run_forge
step halmos run_halmos
step mutation run_mutation

echo
echo "================================================================================"
echo "== security gate: summary ($(( $(date +%s) - gate_start ))s)"
printf '   %s\n' "${timings[@]}"
if [ "${#failed[@]}" -ne 0 ]; then
  echo "security gate: FAILED: ${failed[*]}"
  exit 1
fi
echo "security gate: passed"
