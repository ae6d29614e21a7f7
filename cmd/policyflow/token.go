package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/api"
	"github.com/policyflow/policyflow/config"
	"github.com/policyflow/policyflow/models"
)

// runToken creates an API token: `policyflow token create NAME SCOPES`. The token is printed
// once; only its hash is stored. Creating a token with an existing name replaces it.
func runToken(ctx context.Context, args []string) error {
	if len(args) != 3 || args[0] != "create" {
		return errors.New("usage: policyflow token create NAME SCOPE[,SCOPE...]")
	}
	name, scopes := args[1], strings.Split(args[2], ",")
	for _, s := range scopes {
		if !slices.Contains(api.Scopes, s) {
			return fmt.Errorf("unknown scope %q (hr, officer, directory, auditor, admin)", s)
		}
	}
	cfg, err := load(config.Migrate)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	token, hash, err := activities.NewToken()
	if err != nil {
		return err
	}
	if err := store.PutToken(ctx, models.APIToken{Name: name, Hash: hash, Scopes: strings.Join(scopes, ",")}); err != nil {
		return err
	}
	fmt.Println(token)
	return nil
}
