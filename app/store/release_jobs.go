package store

import (
	"context"
	"database/sql"
	"strconv"
)

// ReleaseHasPendingJob reports whether a queued or running job carries a
// dedupe key starting with "release:<id>:" (the release pipeline's jobs).
func (s *Store) ReleaseHasPendingJob(ctx context.Context, releaseID int64) (bool, error) {
	prefix := "release:" + strconv.FormatInt(releaseID, 10) + ":"
	var n int
	err := s.readRow(ctx, `SELECT COUNT(*) FROM jobs WHERE dedupe_key >= ? AND dedupe_key < ? AND state IN ('queued', 'running')`,
		prefix, prefix+"\xff").Scan(&n)
	return n > 0, err
}

// CampaignPendingJobs returns the releases of a campaign that have a
// queued or running pipeline job (a privacy-scan wait, a retry).
func (s *Store) CampaignPendingJobs(ctx context.Context, campaignID int64) (map[int64]bool, error) {
	rows, err := s.read(ctx, `SELECT DISTINCT json_extract(j.payload, '$.release_id') FROM jobs j
		WHERE j.state IN ('queued', 'running') AND j.dedupe_key >= 'release:' AND j.dedupe_key < 'release;'
		AND json_extract(j.payload, '$.release_id') IN (SELECT id FROM releases WHERE campaign_id = ?)`, campaignID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id sql.NullInt64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id.Int64] = true
	}
	return out, rows.Err()
}
