// Shared settings and checks of the k6 scripts (see README.md). Everything comes from the
// environment, so the same script runs against a laptop (`make dev`) or a production cluster:
//   BASE_URL  the proxy's OpenAI-compatible base URL   (default http://127.0.0.1:8080/v1)
//   API_KEY   a virtual key (sk-gw-...)                 (required)
//   MODEL     a model alias the key may use             (default demo)
//   VUS, DURATION                                      (defaults 10 and 30s)
//   OVERHEAD_P50_MS, OVERHEAD_P99_MS                   gateway overhead thresholds (5, 25)
import http from "k6/http";
import { check, fail } from "k6";
import { Counter, Trend } from "k6/metrics";

export const BASE_URL = __ENV.BASE_URL || "http://127.0.0.1:8080/v1";
export const MODEL = __ENV.MODEL || "demo";
export const API_KEY = __ENV.API_KEY || "";
export const VUS = parseInt(__ENV.VUS || "10", 10);
export const DURATION = __ENV.DURATION || "30s";
// Loosen these on a shared or loaded machine; the defaults are what a quiet pod should meet.
export const OVERHEAD_THRESHOLDS = [
  `p(50)<${__ENV.OVERHEAD_P50_MS || "5"}`,
  `p(99)<${__ENV.OVERHEAD_P99_MS || "25"}`,
];

// What the gateway itself adds before the response starts (the x-gateway-overhead-ms header).
export const gatewayOverhead = new Trend("gateway_overhead", true);
// Answers by HTTP status, to see refusals (429) next to successes.
export const answers = new Counter("gateway_answers");

// Every script re-exports this as its k6 `setup`: stop before the load when no key is given.
export function setup() {
  if (!API_KEY) {
    fail("set API_KEY to a virtual key (sk-gw-...), e.g. from .run/dev.env: OPENAI_API_KEY");
  }
}

export function headers() {
  return { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" };
}

export function chatBody(stream, maxTokens) {
  const body = {
    model: MODEL,
    messages: [{ role: "user", content: "Say hello in five words." }],
    max_tokens: maxTokens || 32,
  };
  if (stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return JSON.stringify(body);
}

export function postChat(stream, maxTokens) {
  const res = http.post(`${BASE_URL}/chat/completions`, chatBody(stream, maxTokens), {
    headers: headers(),
    tags: { name: stream ? "chat-stream" : "chat" },
    // Refusals are expected in the limit scenarios: do not count them as failed requests.
    responseCallback: http.expectedStatuses(200, 429),
  });
  answers.add(1, { status: String(res.status) });
  const overhead = res.headers["X-Gateway-Overhead-Ms"];
  if (overhead !== undefined) {
    gatewayOverhead.add(parseFloat(overhead));
  }
  return res;
}

export function checkOpenAIError(res) {
  return check(res, {
    "refusal is OpenAI-shaped": (r) => {
      const error = r.json("error");
      return error !== null && typeof error === "object" && typeof error.message === "string";
    },
  });
}
