package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// Checkpoints copy the WAL back into the database file. SQLite runs one
// itself inside the commit that takes the WAL past wal_autocheckpoint pages,
// on the writer's connection: under a push flood that was an eighth of the
// writer goroutine's time (copying pages, two fsyncs), with every push of
// that batch waiting for it. So the writer's automatic checkpoint is moved
// out to a safety net, and a goroutine on a connection of its own runs a
// PASSIVE checkpoint (it never blocks the writer or readers) after commits,
// at most every checkpointEvery. Durability does not change: a transaction
// is committed once its frames are in the WAL, checkpointed or not.

const (
	writerAutoCheckpoint = 10000 // pages (40 MB at 4 KiB): only if the checkpointer falls behind
	checkpointEvery      = 100 * time.Millisecond
)

type checkpointer struct {
	once  sync.Once
	db    *sql.DB
	kick  chan struct{}
	quit  chan struct{}
	ended chan struct{}
}

func openCheckpointer(path string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), quit: make(chan struct{}), ended: make(chan struct{})}
	go c.loop()
	return c, nil
}

// poke asks for a checkpoint soon; it never blocks.
func (c *checkpointer) poke() {
	if c == nil {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer close(c.ended)
	pause := time.NewTimer(time.Hour)
	pause.Stop()
	for {
		select {
		case <-c.kick:
		case <-c.quit:
			return
		}
		var busy, log, done int
		// An error (the database closing, a lock) only means the WAL waits
		// for the next one, or for the writer's safety net.
		_ = c.db.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done)
		pause.Reset(checkpointEvery)
		select {
		case <-pause.C:
		case <-c.quit:
			return
		}
	}
}

func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	var err error
	c.once.Do(func() {
		close(c.quit)
		<-c.ended
		err = c.db.Close()
	})
	return err
}
