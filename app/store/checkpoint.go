package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// The writer never checkpoints the WAL itself (wal_autocheckpoint(0) in
// its DSN): a checkpoint ends in fsync, and on a network disk that stalled
// the one writer for tens of milliseconds every thousand pages, so every
// transaction queued behind it (a campaign's thousands of transitions ran
// three times slower). A checkpointer on its own connection copies the WAL
// back PASSIVE-ly once a second instead — beside the writer, never
// blocking it — and truncates the WAL at Close.
type checkpointer struct {
	db     *sql.DB
	stop   chan struct{}
	done   sync.WaitGroup
	closed sync.Once
}

// checkpointEvery is the checkpointer's period.
const checkpointEvery = time.Second

func startCheckpointer(path string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, stop: make(chan struct{})}
	c.done.Add(1)
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer c.done.Done()
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			// Errors (SQLITE_BUSY while a TRUNCATE of another process runs)
			// leave the frames for the next round.
			_, _ = c.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// close stops the loop and folds the whole WAL back into the database;
// closing twice is a no-op.
func (c *checkpointer) close(ctx context.Context) error {
	if c == nil {
		return nil
	}
	var err error
	c.closed.Do(func() {
		close(c.stop)
		c.done.Wait()
		_, _ = c.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
		err = c.db.Close()
	})
	return err
}
