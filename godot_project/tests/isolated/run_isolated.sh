#!/bin/sh
# Runs one isolated test process under a time limit and prints its exit status as the last
# line, so the caller sees a crash (128 + the signal) even where the status is lost on the way.
# Usage: run_isolated.sh SECONDS COMMAND [ARGS...]
limit=$1
shift
timeout -k 5 "$limit" "$@"
echo "isolated exit status $?"
