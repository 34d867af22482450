// Command minifleet is the self-hosted WeChat third-party platform: the
// portal, WeChat's push intake and, in sandbox mode, a WeChat emulator.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // time zones work in a container without tzdata
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "minifleet:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  minifleet [serve]                 run the portal (sandbox mode unless WeChat credentials are set)
  minifleet backup PATH             write a consistent copy of the database to PATH
  minifleet restore FILE            put a backup back (checks it; refuses while a server runs on the database)
  minifleet user create-admin -email E -name N [-password P]
                                    create a platform admin (prints a generated password when -password is omitted)
  minifleet config                  print the effective configuration, secrets redacted
  minifleet demo purge              remove the sandbox's demo data (demo accounts, tenant, apps, templates,
                                    their campaigns): live mode refuses to start until it is gone
`

// run is main without globals: arguments, environment and output are passed in.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, getenv, stdout)
	case "backup":
		return backupCmd(ctx, args, getenv, stdout)
	case "restore":
		return restoreCmd(ctx, args, getenv, stdout)
	case "user":
		return userCmd(ctx, args, getenv, stdout)
	case "demo":
		return demoCmd(ctx, args, getenv, stdout)
	case "config":
		cfg, err := loadConfig(getenv)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, cfg)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}
