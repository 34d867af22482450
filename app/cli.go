package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/web"
)

func backupCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: minifleet backup PATH")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	// Never a fresh empty database: backing up the file opening would
	// create (a wrong or missing MINIFLEET_DATA_DIR) is a backup of nothing.
	if fi, err := os.Stat(cfg.DBPath()); err != nil || fi.Size() == 0 {
		return fmt.Errorf("backup: no database at %s (set MINIFLEET_DATA_DIR, or MINIFLEET_LITEFS_DIR, to where the server keeps it)", cfg.DBPath())
	}
	// Opened as a replica: nothing created, nothing migrated.
	st, err := store.OpenWith(ctx, cfg.DBPath(), cfg.SecretKey, store.Options{Replica: true})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Backup(ctx, args[0]); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "backup written to", args[0])
	return nil
}

// withStore opens the configured database for a one-off command.
func withStore(ctx context.Context, getenv func(string) string, fn func(*store.Store) error) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

// demoCmd is `minifleet demo purge`: it removes what the sandbox seeded
// (store.PurgeSeed) in one transaction, logged in the activity.
func demoCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "purge" {
		return errors.New("usage: minifleet demo purge")
	}
	return withStore(ctx, getenv, func(st *store.Store) error {
		p, err := st.PurgeSeed(ctx)
		if err != nil {
			return fmt.Errorf("demo purge: %w", err)
		}
		fmt.Fprintf(stdout, "removed the sandbox's demo data: %d users, %d tenants, %d apps, %d templates, %d campaigns, %d releases", p.Users, p.Tenants, p.Apps, p.Templates, p.Campaigns, p.Releases)
		if p.AppsUnbound > 0 {
			fmt.Fprintf(stdout, "; %d other apps of the demo tenant kept, unbound", p.AppsUnbound)
		}
		fmt.Fprintln(stdout)
		return nil
	})
}

func userCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create-admin" {
		return errors.New("usage: minifleet user create-admin -email E -name N [-password P]")
	}
	fs := flag.NewFlagSet("create-admin", flag.ContinueOnError)
	fs.SetOutput(stdout)
	email := fs.String("email", "", "the admin's e-mail (login)")
	name := fs.String("name", "Admin", "display name")
	password := fs.String("password", "", "password; generated and printed when empty")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	generated := *password == ""
	if generated {
		b := make([]byte, 12)
		rand.Read(b)
		*password = base64.RawURLEncoding.EncodeToString(b)
	}
	return withStore(ctx, getenv, func(st *store.Store) error {
		u, err := createStaff(ctx, st, model.NormalizeEmail(*email), *name, *password, model.StaffAdmin)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created admin %s (id %d)\n", u.Email, u.ID)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n", *password)
		}
		return nil
	})
}

// createStaff validates and creates a platform user.
func createStaff(ctx context.Context, st *store.Store, email, name, password string, role model.StaffRole) (model.User, error) {
	if k := model.ValidateEmail(email); k != "" {
		return model.User{}, fmt.Errorf("-email: %q is not a valid address", email)
	}
	if k := model.ValidatePassword(password); k != "" {
		return model.User{}, fmt.Errorf("-password: at least %d characters", model.MinPasswordLen)
	}
	hash, err := web.DefaultHasher.Hash(password)
	if err != nil {
		return model.User{}, err
	}
	u, err := st.CreateUser(ctx, model.SystemActor, model.User{Email: email, Name: name, PasswordHash: hash, StaffRole: role})
	if err != nil && model.ErrorCode(err) == model.CodeInvalid {
		return u, fmt.Errorf("-email: %s is already registered", email)
	}
	return u, err
}
