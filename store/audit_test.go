package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"prodays/store"
)

func TestAuditTakesActorFromContext(t *testing.T) {
	db, ctx := openDB(t)
	ctx = store.WithActor(ctx, store.Actor{Username: "a.admin", DeviceID: "dev-1", Address: "10.0.0.7"})
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		if err := store.Audit(ctx, tx, time.Now(), store.AuditEntry{Action: "test.implicit"}); err != nil {
			return err
		}
		return store.Audit(ctx, tx, time.Now(), store.AuditEntry{Username: "cli", Address: "explicit", Action: "test.explicit"})
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.ListAudit(context.Background(), store.AuditFilter{Action: "test."})
	if err != nil || len(got) != 2 {
		t.Fatalf("ListAudit: %v %v", got, err)
	}
	if e := got[1]; e.Username != "a.admin" || e.DeviceID != "dev-1" || e.Address != "10.0.0.7" {
		t.Errorf("implicit: got %+v, want the context's actor", e)
	}
	if e := got[0]; e.Username != "cli" || e.DeviceID != "dev-1" || e.Address != "explicit" {
		t.Errorf("explicit: got %+v, want given fields kept and empty ones filled", e)
	}
}
