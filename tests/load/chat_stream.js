// Chat completions, streaming (SSE): time to first byte (first token, as k6 sees it) and the
// complete stream. k6 reads the whole body, so `http_req_waiting` is the time to first byte.
//   k6 run -e API_KEY=sk-gw-... tests/load/chat_stream.js
import { check } from "k6";
import { DURATION, OVERHEAD_THRESHOLDS, VUS, postChat } from "./lib.js";

export const options = {
  scenarios: {
    stream: { executor: "constant-vus", vus: VUS, duration: DURATION },
  },
  thresholds: {
    http_req_failed: ["rate<0.01"],
    checks: ["rate>0.99"],
    "http_req_waiting{name:chat-stream}": [`p(99)<${__ENV.TTFB_P99_MS || "2000"}`],
    gateway_overhead: OVERHEAD_THRESHOLDS,
  },
};

export { setup } from "./lib.js";

export default function () {
  const res = postChat(true);
  check(res, {
    "status 200": (r) => r.status === 200,
    "is an event stream": (r) => (r.headers["Content-Type"] || "").startsWith("text/event-stream"),
    "ends with [DONE]": (r) => typeof r.body === "string" && r.body.trimEnd().endsWith("data: [DONE]"),
    "reports usage": (r) => typeof r.body === "string" && r.body.includes('"usage":{'),
  });
}
