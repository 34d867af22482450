package store

import (
	"context"
	"database/sql"
)

// LiveEvent is one platform.Hub event as the primary recorded it for
// replicas (table live_events).
type LiveEvent struct {
	ID        int64
	Name      string
	TenantID  int64
	AppID     string
	AttemptID int64
	Campaign  int64
	At        int64
}

// AddLiveEvents records events in one transaction.
func (s *Store) AddLiveEvents(ctx context.Context, evs []LiveEvent) error {
	if len(evs) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, e := range evs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO live_events (name, tenant_id, appid, attempt_id, campaign, at) VALUES (?, ?, ?, ?, ?, ?)`,
				e.Name, e.TenantID, e.AppID, e.AttemptID, e.Campaign, e.At); err != nil {
				return err
			}
		}
		return nil
	})
}

// LiveEventsAfter returns up to 500 events with an id above after, oldest first.
func (s *Store) LiveEventsAfter(ctx context.Context, after int64) ([]LiveEvent, error) {
	rows, err := s.read(ctx, `SELECT id, name, tenant_id, appid, attempt_id, campaign, at FROM live_events WHERE id > ? ORDER BY id LIMIT 500`, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LiveEvent
	for rows.Next() {
		var e LiveEvent
		if err := rows.Scan(&e.ID, &e.Name, &e.TenantID, &e.AppID, &e.AttemptID, &e.Campaign, &e.At); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// LastLiveEvent is the newest event's id (0 when none).
func (s *Store) LastLiveEvent(ctx context.Context) (int64, error) {
	var id int64
	err := s.readRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM live_events`).Scan(&id)
	return id, err
}

// PruneLiveEvents deletes events recorded before the unix time before.
func (s *Store) PruneLiveEvents(ctx context.Context, before int64) error {
	_, err := s.W.ExecContext(ctx, `DELETE FROM live_events WHERE at < ?`, before)
	return err
}
