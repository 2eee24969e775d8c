// Chat completions, non-streaming: throughput, latency and gateway overhead.
//   k6 run -e API_KEY=sk-gw-... -e BASE_URL=http://127.0.0.1:8080/v1 tests/load/chat.js
import { check } from "k6";
import { DURATION, OVERHEAD_THRESHOLDS, VUS, postChat } from "./lib.js";

export const options = {
  scenarios: {
    chat: { executor: "constant-vus", vus: VUS, duration: DURATION },
  },
  thresholds: {
    http_req_failed: ["rate<0.01"],
    checks: ["rate>0.99"],
    // What the gateway adds, not the provider: the number to watch when you change the gateway.
    gateway_overhead: OVERHEAD_THRESHOLDS,
  },
};

export { setup } from "./lib.js";

export default function () {
  const res = postChat(false);
  check(res, {
    "status 200": (r) => r.status === 200,
    "has a choice": (r) => r.status === 200 && r.json("choices.0.message") !== null,
    "has usage": (r) => r.status === 200 && r.json("usage.total_tokens") > 0,
  });
}
