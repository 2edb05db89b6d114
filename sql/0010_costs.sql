-- What each run spent, as its own figure. Claude Code reports a resumed session's running
-- total (`total_cost_usd`): it is kept here, and `cost_usd` holds the difference to the
-- session's previous run, so a unit's runs add up to what was billed.
ALTER TABLE runs ADD COLUMN session_cost_usd REAL;
-- The models the run used (a JSON array of names), as the CLI reported them.
ALTER TABLE runs ADD COLUMN models TEXT;
-- How the run was billed: 'api_key' or 'login', as the CLI reported it; null when unknown.
ALTER TABLE runs ADD COLUMN billing TEXT;
