#!/usr/bin/env bash
# The tether demo: a local control plane, the example models in a fresh Git
# repository, the daemon applying them, an out-of-band change, and its revert.
# Run it with `make demo`; everything it starts is stopped on exit or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

work=$(mktemp -d -t tether-demo-XXXXXX)
tether_pid=""
slack_pid=""
cleanup() {
  set +e
  [ -n "$tether_pid" ] && kill "$tether_pid" 2>/dev/null && wait "$tether_pid" 2>/dev/null
  [ -n "$slack_pid" ] && kill "$slack_pid" 2>/dev/null && wait "$slack_pid" 2>/dev/null
  go run ./e2e/cluster/cmd/localcluster down --dir "$work/cluster" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "Starting the local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)"
bindir=$(go run ./e2e/cluster/cmd/localcluster build)
export PATH="$bindir:$PATH"
export KUBECONFIG
KUBECONFIG=$(go run ./e2e/cluster/cmd/localcluster up --dir "$work/cluster")
kubectl get nodes

say "Creating a Git repository from examples/models"
repo="$work/models"
mkdir -p "$repo" && cp -r examples/models/. "$repo"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=demo -c user.email=demo@tether.dev commit -qm "two models"
git -C "$repo" log --oneline
kubectl create namespace ml

say "Starting a stand-in Slack webhook on loopback (e2e/slackrecv): it prints what Slack would receive"
go build -o "$work/slackrecv" ./e2e/slackrecv/cmd/slackrecv
"$work/slackrecv" --url-file "$work/slack-url" >"$work/slack.log" 2>&1 &
slack_pid=$!
for _ in $(seq 1 50); do [ -s "$work/slack-url" ] && break; sleep 0.1; done

say "Running: tether run --repo $repo --interval 5s --default-namespace ml --slack-webhook-url-file slack-url --cluster-name demo"
./bin/tether run --repo "$repo" --interval 5s --kubeconfig "$KUBECONFIG" --default-namespace ml \
  --slack-webhook-url-file "$work/slack-url" --cluster-name demo \
  --listen 127.0.0.1:0 --log-format text >"$work/tether.log" 2>&1 &
tether_pid=$!
for _ in $(seq 1 100); do grep -q 'msg="revision reconciled"' "$work/tether.log" && break; sleep 0.2; done
grep -E 'msg=(applied|"revision reconciled")' "$work/tether.log" | sed 's/^/  tether: /'

say "What tether applied"
kubectl -n ml get deployments,services,jobs -l app.kubernetes.io/managed-by=tether
kubectl -n ml wait deployment/fraud-detector --for=condition=Available --timeout=60s

say "Out-of-band change: someone scales fraud-detector to 5 replicas (field manager demo-intruder)"
kubectl -n ml patch deployment fraud-detector --field-manager=demo-intruder -p '{"spec":{"replicas":5}}'
sleep 1
printf '  replicas one second later: %s (Git says 2)\n' "$(kubectl -n ml get deployment fraud-detector -o jsonpath='{.spec.replicas}')"
grep -E 'msg="drift (detected|reverted)"' "$work/tether.log" | sed 's/^/  tether: /'
for _ in $(seq 1 50); do grep -q 'Drift reverted' "$work/slack.log" && break; sleep 0.1; done
echo "  What Slack received:"
sed 's/^/  /' "$work/slack.log"

say "Out-of-band change: someone swaps churn-scorer's image"
kubectl -n ml set image deployment/churn-scorer serve=evil.example.com/churn:latest
sleep 1
printf '  image one second later: %s\n' "$(kubectl -n ml get deployment churn-scorer -o jsonpath='{.spec.template.spec.containers[0].image}')"
grep -E 'msg="drift reverted"' "$work/tether.log" | tail -n 1 | sed 's/^/  tether: /'

say "A commit changes the model: fraud-detector serves 3 replicas"
sed -i 's/replicas: 2/replicas: 3/' "$repo/models/fraud-detector/model.yaml"
git -C "$repo" -c user.name=demo -c user.email=demo@tether.dev commit -qam "fraud-detector: 3 replicas"
for _ in $(seq 1 60); do
  [ "$(kubectl -n ml get deployment fraud-detector -o jsonpath='{.spec.replicas}')" = 3 ] && break; sleep 0.25
done
printf '  replicas after the commit: %s, revision %s\n' \
  "$(kubectl -n ml get deployment fraud-detector -o jsonpath='{.spec.replicas}')" \
  "$(kubectl -n ml get deployment fraud-detector -o jsonpath='{.metadata.annotations.tether\.dev/revision}')"

listen=$(grep -o 'msg="tether started".*listen=[^ ]*' "$work/tether.log" | sed 's/.*listen=//')
say "Try it yourself while everything is still running"
cat <<EOT
  # the cluster, as kubectl sees it
  export KUBECONFIG=$KUBECONFIG PATH=$bindir:\$PATH
  kubectl -n ml get deployments,services,jobs -l app.kubernetes.io/managed-by=tether
  # drift it yourself: reverted at once, and reported in the log and to Slack
  kubectl -n ml patch deployment fraud-detector --field-manager=me -p '{"spec":{"replicas":7}}'
  # tether's inventory records (ApplySet parents)
  kubectl -n ml get configmaps -l tether.dev/inventory
  # per-model state, revision and last drift; Prometheus metrics
  curl -s http://$listen/status
  curl -s http://$listen/metrics | grep '^tether_'
  # what Slack received, and the daemon's log
  cat $work/slack.log
  less $work/tether.log
  # change a model in Git: applied within the 5 s poll
  cd $repo && sed -i 's/replicas: 1/replicas: 2/' models/churn-scorer/model.yaml && git commit -qam 'two replicas'
EOT
if [ -t 0 ]; then
  read -r -p "Press Enter to stop tether and the control plane... " _ || true
else
  echo "  (not a terminal: stopping now; run make demo in a terminal to keep it running while you try these)"
fi

say "Done; stopping tether and the control plane"
