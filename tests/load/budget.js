// Hard budgets: concurrent requests against a small hard budget must stop at the budget (the
// proxy reserves the estimated cost before each call), refusing the rest with 429
// insufficient_quota in OpenAI's shape. Give the key's tenant a small hard budget first, then:
//   k6 run -e API_KEY=sk-gw-... tests/load/budget.js
// Afterwards compare the spend in the control API's usage summary with the budget: it must not
// exceed it.
import { check } from "k6";
import { Counter } from "k6/metrics";
import { checkOpenAIError, postChat } from "./lib.js";

const quotaRefusals = new Counter("quota_refusals");

export const options = {
  scenarios: {
    spend: {
      executor: "shared-iterations",
      vus: parseInt(__ENV.VUS || "20", 10),
      iterations: parseInt(__ENV.ITERATIONS || "400", 10),
      maxDuration: "5m",
    },
  },
  thresholds: {
    checks: ["rate>0.99"],
    // The budget must run out during the run, or the scenario proved nothing.
    quota_refusals: ["count>0"],
    "gateway_answers{status:500}": ["count==0"],
  },
};

export { setup } from "./lib.js";

export default function () {
  // Large max_tokens: each reservation is big, so the budget is reached quickly.
  const res = postChat(false, 1024);
  check(res, { "200 or 429": (r) => r.status === 200 || r.status === 429 });
  if (res.status === 429) {
    checkOpenAIError(res);
    if (res.json("error.code") === "insufficient_quota") {
      quotaRefusals.add(1);
    }
  }
}
