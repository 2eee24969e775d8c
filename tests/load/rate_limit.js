// Rate limits: drive one key above its requests-per-minute limit and check that the surplus is
// refused with 429 in OpenAI's error shape (with Retry-After), never with a 5xx.
// Give the key a small limit first (control API or admin UI), e.g. 60 rpm, then:
//   k6 run -e API_KEY=sk-gw-... -e RPM_LIMIT=60 tests/load/rate_limit.js
import { check } from "k6";
import { Rate } from "k6/metrics";
import { checkOpenAIError, postChat } from "./lib.js";

const RPM_LIMIT = parseInt(__ENV.RPM_LIMIT || "60", 10);
// Twice the limit is sent within DURATION (at most a minute, so one limit window holds it all).
const WINDOW = __ENV.DURATION || "1m";
const refused = new Rate("refused");

export const options = {
  scenarios: {
    // Twice the limit within one window: about half must be refused.
    over_limit: {
      executor: "constant-arrival-rate",
      rate: RPM_LIMIT * 2,
      timeUnit: WINDOW,
      duration: WINDOW,
      preAllocatedVUs: 10,
    },
  },
  thresholds: {
    checks: ["rate>0.99"],
    // Admitted ≈ the limit (plus what refills meanwhile): 35% to 65% refused.
    refused: ["rate>0.35", "rate<0.65"],
    "gateway_answers{status:500}": ["count==0"],
    "gateway_answers{status:502}": ["count==0"],
  },
};

export { setup } from "./lib.js";

export default function () {
  const res = postChat(false);
  refused.add(res.status === 429);
  check(res, { "200 or 429": (r) => r.status === 200 || r.status === 429 });
  if (res.status === 429) {
    checkOpenAIError(res);
    check(res, { "429 has Retry-After": (r) => r.headers["Retry-After"] !== undefined });
  }
}
