-- Support agents with their team ('No team' when empty); an agent with no active flag counts as active.
INSERT INTO gold.support_agent (agent_id, full_name, team, is_active)
SELECT agent_id, full_name, COALESCE(NULLIF(team, ''), 'No team'), COALESCE(is_active, true)
FROM silver.agents
