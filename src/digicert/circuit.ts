// Circuit breaker of one DigiCert client. After `threshold` consecutive calls that ended "unavailable" (after
// their retries) the circuit opens: calls fail fast without touching the network until the cool-down is over.
// Then one trial call goes through (half-open): success closes the circuit, failure re-opens it.
// Only outages count: 429 (pacing), auth errors and other answers prove DigiCert is reachable and reset the count.
import { DigiCertError } from "./errors";

export const DEFAULT_CIRCUIT_THRESHOLD = 5;
export const DEFAULT_CIRCUIT_COOLDOWN_MS = 30_000;

export type CircuitState = "closed" | "open" | "half-open";

export interface CircuitSnapshot {
  state: CircuitState;
  /** ISO time the cool-down ends; present while open. */
  openUntil?: string;
  consecutiveFailures: number;
}

/** What a finished call says about DigiCert: reachable, down, or nothing (e.g. a local pacing give-up). */
export type CallOutcome = "success" | "failure" | "neutral";

export interface CircuitOptions {
  /** Consecutive failed calls that open the circuit; 0 disables the breaker. */
  threshold: number;
  cooldownMs: number;
  now?: () => number;
  /** Called on every state change (for logging). */
  onChange?: (snapshot: CircuitSnapshot) => void;
}

export class CircuitBreaker {
  private state: CircuitState = "closed";
  private failures = 0;
  private openUntil = 0;
  private trialInFlight = false;
  private readonly now: () => number;

  constructor(private readonly opts: CircuitOptions) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Lets a call through or throws the fail-fast DigiCertError. Returns true when the call is the half-open
   * trial; pass that to `record`.
   */
  admit(): boolean {
    if (this.state === "closed") return false;
    const now = this.now();
    if (this.state === "open") {
      if (now < this.openUntil) throw this.fastFail(this.openUntil, now);
      this.state = "half-open";
      this.trialInFlight = false;
      this.changed();
    }
    // half-open: exactly one trial at a time; the others fail fast for a second.
    if (this.trialInFlight) throw this.fastFail(now + 1000, now);
    this.trialInFlight = true;
    return true;
  }

  record(trial: boolean, outcome: CallOutcome): void {
    if (trial) {
      this.trialInFlight = false;
      if (outcome === "success") this.close();
      else if (outcome === "failure") this.open(this.failures + 1);
      return;
    }
    // A call admitted before the circuit opened says nothing about the state now.
    if (this.state !== "closed") return;
    if (outcome === "success") this.failures = 0;
    else if (outcome === "failure") {
      this.failures++;
      if (this.opts.threshold > 0 && this.failures >= this.opts.threshold) this.open(this.failures);
    }
  }

  snapshot(): CircuitSnapshot {
    if (this.state === "open" && this.now() >= this.openUntil) {
      return { state: "half-open", consecutiveFailures: this.failures };
    }
    if (this.state === "open") {
      return { state: "open", openUntil: new Date(this.openUntil).toISOString(), consecutiveFailures: this.failures };
    }
    return { state: this.state, consecutiveFailures: this.failures };
  }

  private open(failures: number): void {
    this.failures = failures;
    this.state = "open";
    this.openUntil = this.now() + this.opts.cooldownMs;
    this.changed();
  }

  private close(): void {
    this.failures = 0;
    this.state = "closed";
    this.changed();
  }

  private changed(): void {
    this.opts.onChange?.(this.snapshot());
  }

  private fastFail(until: number, now: number): DigiCertError {
    return new DigiCertError(
      "unavailable",
      `DigiCert circuit open after repeated failures; retrying at ${new Date(until).toISOString()}`,
      { retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)), reachedDigiCert: false },
    );
  }
}
