-- State every worker shares when the queue runs on Postgres (REDIS_URL unset); on
-- Redis these live in Redis instead. Times are the database server's clock
-- (clock_timestamp), so workers on machines with skewed clocks still agree.

-- The embedding provider's budget (SLUICE_EMBED_RPM / SLUICE_EMBED_TPM): a sliding
-- log of admitted requests per budget, exactly as the Redis limiter keeps it. A
-- token bucket would be simpler, but one that holds a full minute's budget lets
-- almost two minutes' worth into a single 60 s window, which the provider refuses.
CREATE TABLE sluice.rate_budgets (
  key           text PRIMARY KEY,          -- queue prefix + provider:model
  penalty_until bigint NOT NULL DEFAULT 0  -- epoch ms; nobody is admitted before it (after a 429)
);

CREATE TABLE sluice.rate_admissions (
  key      text NOT NULL,
  id       text NOT NULL,
  at_ms    bigint NOT NULL,  -- epoch ms of admission, moved to the response's arrival by settle
  requests int NOT NULL,
  tokens   bigint NOT NULL,
  PRIMARY KEY (key, id)
);
CREATE INDEX rate_admissions_at_idx ON sluice.rate_admissions (key, at_ms);

-- Admits a cost against one budget, or says how long until it could be: returns 0
-- when admitted (and recorded under p_id), else milliseconds to wait. The budget's
-- row lock makes check-and-record atomic across every connection; each statement
-- below sees what the previous lock holder committed. p_max_* = 0: unlimited.
CREATE FUNCTION sluice.rate_acquire(
  p_key text, p_id text, p_window_ms bigint,
  p_max_requests bigint, p_max_tokens bigint, p_requests bigint, p_tokens bigint
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  penalty bigint;
  now_ms bigint;
  used_r bigint;
  used_t bigint;
  freed_r bigint := 0;
  freed_t bigint := 0;
  e record;
BEGIN
  INSERT INTO sluice.rate_budgets (key) VALUES (p_key) ON CONFLICT (key) DO NOTHING;
  SELECT penalty_until INTO penalty FROM sluice.rate_budgets WHERE key = p_key FOR UPDATE;
  now_ms := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  IF penalty > now_ms THEN
    RETURN penalty - now_ms;
  END IF;
  DELETE FROM sluice.rate_admissions WHERE key = p_key AND at_ms <= now_ms - p_window_ms;
  SELECT coalesce(sum(requests), 0), coalesce(sum(tokens), 0) INTO used_r, used_t
    FROM sluice.rate_admissions WHERE key = p_key;
  IF (p_max_requests = 0 OR used_r + p_requests <= p_max_requests)
     AND (p_max_tokens = 0 OR used_t + p_tokens <= p_max_tokens) THEN
    INSERT INTO sluice.rate_admissions (key, id, at_ms, requests, tokens)
      VALUES (p_key, p_id, now_ms, p_requests, p_tokens);
    RETURN 0;
  END IF;
  -- Oldest first: the wait ends when enough of them have left the window.
  FOR e IN SELECT at_ms, requests, tokens FROM sluice.rate_admissions WHERE key = p_key ORDER BY at_ms, id LOOP
    freed_r := freed_r + e.requests;
    freed_t := freed_t + e.tokens;
    IF (p_max_requests = 0 OR used_r - freed_r + p_requests <= p_max_requests)
       AND (p_max_tokens = 0 OR used_t - freed_t + p_tokens <= p_max_tokens) THEN
      RETURN greatest(1, e.at_ms + p_window_ms - now_ms);
    END IF;
  END LOOP;
  RETURN p_window_ms;
END
$$;

-- Leases that keep one holder at a time across machines (the reconciler's sweep).
-- A holder that dies stops extending, so its lease expires and another takes it;
-- only the holder's token extends or releases it.
CREATE TABLE sluice.leases (
  name       text PRIMARY KEY,
  token      text NOT NULL,
  expires_at timestamptz NOT NULL
);
