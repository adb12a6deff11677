import { useEffect, useState } from 'react';
import { client } from '../api';
import { ROLE_GRANTS } from '../../../contract/identity';

/** The teams the signed-in user may start runs on (a role there that may steer), from GET /api/teams. */
export function useStartableTeams(): string[] | null {
  const [teams, setTeams] = useState<string[] | null>(null);
  useEffect(() => {
    // A server that answers nothing (an older one) leaves runs personal, as they always were.
    client.teams.list().then(
      (res) => setTeams(res.teams.filter((t) => t.roles.some((r) => ROLE_GRANTS[r].includes('steer'))).map((t) => t.team)),
      () => setTeams([]),
    );
  }, []);
  return teams;
}

/**
 * Which team a new run belongs to: shown only to a user who may start runs on some team; `null` is a personal run.
 * The first such team is the default, so a user of one team starts their team's runs as the API would.
 */
export function TeamPicker({ teams, value, onPick }: { teams: string[]; value: string | null; onPick: (team: string | null) => void }) {
  if (teams.length === 0) return null;
  return (
    <>
      <label htmlFor="team">Team</label>
      <select id="team" name="team" data-testid="team-picker" value={value ?? ''} onChange={(e) => onPick(e.target.value || null)}>
        {teams.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
        <option value="">Personal (no team)</option>
      </select>
    </>
  );
}
