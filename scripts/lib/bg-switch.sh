#!/usr/bin/env bash
# scripts/blue-green's switch, the same for every runtime (sourced by scripts/blue-green,
# after bluegreen.sh and the runtime adapter, bg-local.sh or bg-compose.sh, whose rt_*
# functions it calls): observe what runs, start the idle slot, wait until it is ready,
# smoke-test it, switch nginx (a marker file, no reload), confirm, stop the old slot (which
# finishes its in-flight requests before it exits); and, when anything fails,
# put things back (on_exit). docs/deploy.md "How a deploy runs" has the stages.
# shellcheck disable=SC2034  # variables here are used by the script that sources this file

# The state of the part being switched (bluegreen.sh reads and writes it).
declare -p ST >/dev/null 2>&1 || declare -gA ST=()

other_slot() {
    if [[ "$1" == blue ]]; then echo green; else echo blue; fi
}

# served_as <part> <slot> <version>: the X-Served-By that slot answers with.
served_as() {
    printf '%s-%s@%s' "$1" "$2" "$3"
}

# --- observing ---------------------------------------------------------------------------------

# observe <part>: LIVE, IDLE and LIVE_VERSION from what runs (nginx's upstream file and the
# answer through nginx), with ST loaded and made to agree with them: when the record
# disagrees (the stack was restarted by scripts/dev up, a deploy was killed half-way,
# someone switched by hand) the live slot's entry is replaced by what runs, with a
# warning; the idle slot's entry, the rollback target, is kept.
observe() {
    local part="$1" seen
    state_load "$part"
    LIVE="$(rt_live_slot "$part")"
    IDLE="$(other_slot "$LIVE")"
    seen="$(rt_served_by_nginx "$part")"
    if [[ "$seen" == "$part-$LIVE@"* ]]; then
        LIVE_VERSION="${seen#*@}"
    else
        LIVE_VERSION="${ST[${LIVE}_version]:-unknown}"
        if ((DRY_RUN == 0)); then
            warn "nginx's ${part} traffic is not answered by ${part}-${LIVE} (got: ${seen:-no answer}); the live slot is not healthy, continuing so a new version can replace it"
        fi
    fi
    if [[ "$(st live)" != "$LIVE" || "$(st "${LIVE}_version")" != "$LIVE_VERSION" ]]; then
        if [[ -n "$(st live)" ]]; then
            warn "the record says ${part} is $(st live)@$(st "$(st live)_version"), but ${LIVE}@${LIVE_VERSION} is live; recording what runs"
        fi
        ST[part]="$part" ST[live]="$LIVE" ST[since]=- ST[by]="(observed)" ST[action]=observed
        # The idle slot's record (the rollback target) stays; the live one is what runs.
        if [[ "$(st "${LIVE}_version")" != "$LIVE_VERSION" ]]; then
            ST["${LIVE}_version"]="$LIVE_VERSION"
            ST["${LIVE}_env"]=""
        fi
    fi
    # What the live slot runs is kept for a rollback to it: the exact binary (local), the
    # image (compose).
    if [[ "$LIVE_VERSION" != unknown ]]; then
        rt_snapshot_live "$part" "$LIVE" "$LIVE_VERSION"
        [[ -n "$ARTIFACT" ]] && ST["${LIVE}_artifact"]="$ARTIFACT"
    fi
    ((DRY_RUN)) || state_save "$part"
}

# --- the switch ----------------------------------------------------------------------------------

# Flow bookkeeping, read by on_exit when something fails.
FLOW_ACTIVE=0 COMMITTED=0 IDLE_STARTED=0 SWITCHED=0
ACTION="" PART="" FROM="" FROM_VERSION="" TO="" TO_VERSION="" STAGE="" FAIL_REASON="" FLOW_ID="" FLOW_T0=0

# fail <message>: fails the running action (on_exit cleans up and records it).
fail() {
    FAIL_REASON="$1"
    die "$1"
}

run_hook() {
    local name="$1" cmd="$2"
    [[ -n "$cmd" ]] || return 0
    export MALL_BG_ACTION="$ACTION" MALL_BG_PART="$PART" MALL_BG_VERSION="$TO_VERSION" \
        MALL_BG_SLOT="$TO" MALL_BG_PREVIOUS_SLOT="$FROM" MALL_BG_PREVIOUS_VERSION="$FROM_VERSION" \
        MALL_BG_RUNTIME="$RUNTIME" MALL_BG_URL="$NGINX_URL"
    if ((DRY_RUN)); then
        printf '+ (%s hook) %s\n' "$name" "$cmd"
        return 0
    fi
    log "running the ${name} hook: ${cmd}"
    (cd "$MALL_ROOT" && timeout "${MALL_BG_HOOK_TIMEOUT:-300}" bash -c "$cmd") >&2
}

# wait_ready <part> <slot>: READY_PASSES consecutive /ready passes before READY_TIMEOUT;
# fails at once when the slot stops running.
wait_ready() {
    local part="$1" slot="$2" passes=0 code=000 deadline=$((SECONDS + READY_TIMEOUT))
    if ((DRY_RUN)); then
        printf '  (wait for %d consecutive /ready passes of %s-%s, deadline %ds)\n' \
            "$READY_PASSES" "$part" "$slot" "$READY_TIMEOUT"
        return 0
    fi
    log "waiting for ${READY_PASSES} consecutive /ready passes of ${part}-${slot} (deadline ${READY_TIMEOUT}s)"
    while ((passes < READY_PASSES)); do
        if ! rt_slot_running "$part" "$slot"; then
            rt_slot_logs "$part" "$slot" >&2
            fail "${part}-${slot} stopped while starting (its last log lines are above)"
        fi
        code="$(rt_slot_status "$part" "$slot" /ready)"
        if [[ "$code" == 200 ]]; then passes=$((passes + 1)); else passes=0; fi
        ((passes >= READY_PASSES)) && break
        if ((SECONDS >= deadline)); then
            rt_slot_logs "$part" "$slot" >&2
            fail "${part}-${slot} was not ready within ${READY_TIMEOUT}s (last /ready: ${code})"
        fi
        sleep "$READY_INTERVAL"
    done
    log "${part}-${slot} is ready"
}

# smoke_direct <part> <slot> <expected X-Served-By>: the slot itself, bypassing nginx.
smoke_direct() {
    local part="$1" slot="$2" want="$3" got code path
    if ((DRY_RUN)); then
        printf '  (smoke-test %s-%s directly: /health and /ready answer 200, X-Served-By %s)\n' "$part" "$slot" "$want"
        return 0
    fi
    got="$(rt_served_by_slot "$part" "$slot")"
    [[ "$got" == "$want" ]] || fail "${part}-${slot} answers X-Served-By '${got}', expected '${want}'"
    for path in /health /ready; do
        code="$(rt_slot_status "$part" "$slot" "$path")"
        [[ "$code" == 200 ]] || fail "${part}-${slot} answers ${code} on ${path}"
    done
    log "smoke test of ${part}-${slot} passed (${want})"
}

# nginx_serves <part> <expected>: CONFIRM_PASSES consecutive answers through nginx from the
# expected slot and version, before CONFIRM_TIMEOUT.
nginx_serves() {
    local part="$1" want="$2" passes=0 got="" deadline=$((SECONDS + CONFIRM_TIMEOUT))
    if ((DRY_RUN)); then
        printf '  (confirm through nginx /_slot/%s: X-Served-By %s, %d times in a row, deadline %ds)\n' \
            "$part" "$want" "$CONFIRM_PASSES" "$CONFIRM_TIMEOUT"
        return 0
    fi
    while ((passes < CONFIRM_PASSES)); do
        got="$(rt_served_by_nginx "$part")"
        if [[ "$got" == "$want" ]]; then passes=$((passes + 1)); else passes=0; fi
        ((passes >= CONFIRM_PASSES)) && break
        if ((SECONDS >= deadline)); then
            warn "nginx still serves ${part} from '${got:-nothing}' after ${CONFIRM_TIMEOUT}s, expected '${want}'"
            return 1
        fi
        sleep 0.2
    done
    log "nginx serves ${part} from ${want}"
}

# switch_nginx <part> <slot>: nginx sends the part's next requests to the slot: one marker
# file (upstreams/select.inc decides per request). No config change and no reload, so no
# connection of any client or service is closed by a switch; requests already on their way
# to the old slot finish there (it is stopped only after the confirmation, gracefully).
switch_nginx() {
    rt_nginx_install "$1" "$2" || return 1
    ((DRY_RUN)) || log "nginx sends ${1} to ${2} (marker switched; no reload)"
}

# switch_to <part> <slot> <version> <artifact> [VAR=value...]: the common path of deploy
# and rollback, from starting the slot to stopping the old one.
switch_to() {
    local part="$1" slot="$2" version="$3" artifact="$4" want seen
    shift 4
    want="$(served_as "$part" "$slot" "$version")"
    FROM="$LIVE" FROM_VERSION="$LIVE_VERSION" TO="$slot" TO_VERSION="$version"
    audit_flow started

    STAGE=start
    if ((DRY_RUN == 0)) && rt_slot_running "$part" "$slot"; then
        seen="$(rt_served_by_slot "$part" "$slot")"
        if [[ "$ACTION" == rollback && "$seen" == "$want" ]]; then
            log "${part}-${slot} still runs ${version}; reusing it"
        else
            warn "the idle slot ${part}-${slot} is running (${seen:-no answer}); stopping it first"
            rt_stop_slot "$part" "$slot"
        fi
    fi
    IDLE_STARTED=1
    rt_slot_running "$part" "$slot" || rt_start_slot "$part" "$slot" "$version" "$artifact" "$@"

    STAGE=ready
    wait_ready "$part" "$slot"
    STAGE=smoke
    smoke_direct "$part" "$slot" "$want"

    STAGE=switch
    rt_nginx_test "$part" "$slot" ||
        fail "nginx -t rejected the upstream file for ${part} -> ${slot}; nothing was switched"
    SWITCHED=1
    switch_nginx "$part" "$slot" || fail "nginx refused the switch of ${part} to ${slot} (see its error log)"
    STAGE=confirm
    nginx_serves "$part" "$want" || fail "nginx does not serve ${part} from ${want} after the reload"
    STAGE=post_smoke
    run_hook smoke "$SMOKE" || fail "the post-switch smoke command failed"

    ST[live]="$slot"
    ST[since]="$(utc_now)"
    ST[by]="$(actor)"
    ST[action]="$ACTION"
    ST["${slot}_version"]="$version"
    ST["${slot}_artifact"]="$artifact"
    ST["${slot}_env"]="$*"
    ((DRY_RUN)) || state_save "$part"
    COMMITTED=1

    STAGE=stop_old
    rt_stop_slot "$part" "$FROM" || warn "could not stop ${part}-${FROM}; stop it by hand"
    audit_flow ok
    FLOW_ACTIVE=0
    if ((DRY_RUN)); then
        printf 'dry run: %s would go from %s@%s to %s@%s; nothing was changed\n' \
            "$part" "$FROM" "$FROM_VERSION" "$slot" "$version"
        return 0
    fi
    log "${part}: ${FROM}@${FROM_VERSION} -> ${slot}@${version} in $((SECONDS - FLOW_T0))s;" \
        "${FROM} is stopped and kept: scripts/blue-green rollback ${part}"
}

# audit_flow <outcome> [key=value...]: one audit line about the running action.
audit_flow() {
    ((DRY_RUN)) && return 0
    local outcome="$1"
    shift
    local -a duration=()
    [[ "$outcome" == started ]] || duration=("duration_s:=$((SECONDS - FLOW_T0))")
    audit "id=$FLOW_ID" "action=$ACTION" "part=$PART" "runtime=$RUNTIME" \
        "from_slot=$FROM" "from_version=$FROM_VERSION" "to_slot=$TO" "to_version=$TO_VERSION" \
        "outcome=$outcome" "${duration[@]}" "$@"
}

# begin <action> <part> <description>: the lock and the flow bookkeeping.
begin() {
    ACTION="$1" PART="$2"
    FLOW_ID="$(random_hex 6)"
    FLOW_T0=$SECONDS
    if ((DRY_RUN)); then
        printf 'dry run (%s runtime): %s; nothing is changed\n' "$RUNTIME" "$3"
    else
        lock_take "$3" "$LOCK_WAIT"
    fi
    rt_check_stack
    FLOW_ACTIVE=1
}

# on_exit: after a failure, put things back: switch nginx back if it was switched, stop
# the idle slot if it was started; record the outcome; release the lock.
on_exit() {
    local rc=$? outcome=failed
    trap - EXIT
    if ((FLOW_ACTIVE && rc != 0)); then
        [[ -n "$FAIL_REASON" ]] || FAIL_REASON="failed at stage ${STAGE:-setup} (exit ${rc})"
        if ((COMMITTED)); then
            outcome=ok
        else
            if ((SWITCHED)); then
                outcome=switched_back
                warn "switching ${PART} back to ${FROM}"
                if rt_nginx_test "$PART" "$FROM" && switch_nginx "$PART" "$FROM" &&
                    nginx_serves "$PART" "$(served_as "$PART" "$FROM" "$FROM_VERSION")"; then
                    :
                else
                    outcome=switch_back_failed
                    warn "could not confirm the switch back to ${PART}-${FROM}: see docs/deploy.md (a deploy failed halfway)"
                fi
            fi
            if ((IDLE_STARTED)) && [[ "$outcome" != switch_back_failed ]]; then
                rt_stop_slot "$PART" "$TO" || warn "could not stop ${PART}-${TO}"
            fi
        fi
        audit_flow "$outcome" "stage=$STAGE" "error=$FAIL_REASON" || true
        warn "${ACTION} of ${PART} ${outcome/_/ } at stage ${STAGE}: ${FAIL_REASON}"
        [[ "$outcome" == switched_back ]] && warn "${PART}-${FROM} (${FROM_VERSION}) serves again"
    fi
    lock_release || true
    exit "$rc"
}
