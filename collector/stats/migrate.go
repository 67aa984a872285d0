package stats

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/buntdb"
)

// Schema migrations. The database holds the statistics and every other package's records
// (findings, proposals, the audit log) in one file, so an upgrade must carry the file forward
// instead of refusing it. Open applies the steps from the file's version to schemaVersion, one
// buntdb transaction per step that also sets the new version, so a crash leaves the file at a
// whole step and the next Open resumes. Before the first step the old file is saved beside it
// (firebreak.db.schema-vN.bak, a buntdb snapshot). Records (rec|, logseq|) have kept their
// format since version 1; steps convert statistics families whose key or value layout changed,
// schema 5 chained the log entries (log|, see logchain.go), and schema 6 took the buntdb TTLs
// off the statistics (retention.go).
// A file from a newer firebreak is refused: its layout is unknown here.

// schemaVersion is the layout this program writes.
const schemaVersion = 6

type migration struct {
	from, to int
	what     string
	run      func(tx *buntdb.Tx, now int64, ret Retention) (changed int, err error)
}

var migrations = []migration{
	{3, 4, "denies and their ACLs as one key per source and day; term lists in 4 shards", migrateV3},
	{4, 5, "log entries chained by hash (the audit logs)", migrateV4},
	{5, 6, "statistics without buntdb TTLs (deleted by Prune); exemplars carry their line's time", migrateV5},
}

// Migrated is what Open did to bring an older file to schemaVersion.
type Migrated struct {
	From, To int
	Backup   string // the snapshot of the file as it was
	Keys     int    // keys rewritten
}

// migrationPlan is the list of steps from version v, or an error naming why there is none.
func migrationPlan(v int) ([]migration, error) {
	if v > schemaVersion {
		return nil, fmt.Errorf("schema version %d is newer than this program's (%d): it was written by a newer firebreak; run that version or restore a backup", v, schemaVersion)
	}
	var plan []migration
	for v < schemaVersion {
		found := false
		for _, m := range migrations {
			if m.from == v {
				plan = append(plan, m)
				v = m.to
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("schema version %d cannot be upgraded (the oldest this program migrates is %d): restore a newer backup or start a new data folder", v, migrations[0].from)
		}
	}
	return plan, nil
}

// checkSchema reads the file's version, sets it on a new file and migrates an older one.
func checkSchema(db *buntdb.DB, path string, now time.Time, ret Retention) (*Migrated, error) {
	var raw string
	err := db.View(func(tx *buntdb.Tx) error {
		var err error
		raw, err = tx.Get(schemaKey)
		return err
	})
	if errors.Is(err, buntdb.ErrNotFound) {
		return nil, db.Update(func(tx *buntdb.Tx) error {
			_, _, err := tx.Set(schemaKey, strconv.Itoa(schemaVersion), nil)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < 1 {
		return nil, fmt.Errorf("schema version %q is not a version firebreak writes", raw)
	}
	if v == schemaVersion {
		return nil, nil
	}
	plan, err := migrationPlan(v)
	if err != nil {
		return nil, err
	}
	mg := &Migrated{From: v, To: schemaVersion, Backup: fmt.Sprintf("%s.schema-v%d.bak", path, v)}
	if err := snapshotFile(db, mg.Backup); err != nil {
		return nil, fmt.Errorf("save the schema-v%d file before migrating it: %w", v, err)
	}
	for _, m := range plan {
		err := db.Update(func(tx *buntdb.Tx) error {
			n, err := m.run(tx, now.Unix(), ret)
			if err != nil {
				return err
			}
			mg.Keys += n
			_, _, err = tx.Set(schemaKey, strconv.Itoa(m.to), nil)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("migrate schema %d to %d (%s): %w; the file before is at %s", m.from, m.to, m.what, err, mg.Backup)
		}
	}
	// The steps rewrote many keys: compact now rather than at the first flush.
	if err := db.Shrink(); err != nil {
		return nil, fmt.Errorf("compact after migrating: %w", err)
	}
	return mg, nil
}

// snapshotFile writes a buntdb snapshot of db to path (write, sync, rename).
func snapshotFile(db *buntdb.DB, path string) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	err = db.Save(f)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// migrateV3 converts the two families schema 4 changed:
//   - deny|r|<src>|<bucket>|<proto>|<port> = count and dacl|r|<src>|<bucket>|<acl> = count become
//     one deny|r|<src>|<day> value per source and day (see denyFam: total, port list, ACL list);
//   - term|r|<field>|<bucket>|<shard> lists in 16 shards are re-hashed into termShards.
//
// Expiry is recomputed from the bucket as a flush would set it; buckets already past retention
// are dropped.
func migrateV3(tx *buntdb.Tx, now int64, ret Retention) (int, error) {
	n, err := migrateV3Denies(tx, now, ret)
	if err != nil {
		return n, err
	}
	m, err := migrateV3Terms(tx, now, ret)
	return n + m, err
}

type v3DenyKey struct {
	daily bool
	src   netip.Addr
	day   int32
}

func migrateV3Denies(tx *buntdb.Tx, now int64, ret Retention) (int, error) {
	days := make(map[v3DenyKey]hostDay)
	slot := func(k v3DenyKey, h uint8) *hostSlot {
		v := days[k]
		if s := v.slot(h); s != nil {
			return s
		}
		days[k] = append(v, hostSlot{h: h})
		return &days[k][len(days[k])-1]
	}
	var old []string
	var bad error
	for _, pfx := range []string{pfxDeny, "dacl"} {
		err := tx.AscendKeys(pfx+"|*", func(key, val string) bool {
			f := strings.Split(key, "|")
			if pfx == pfxDeny && len(f) == 4 {
				return true // already one key per day
			}
			if pfx == pfxDeny && len(f) != 6 || pfx == "dacl" && len(f) != 5 || f[1] != "h" && f[1] != "d" {
				bad = fmt.Errorf("unexpected schema-3 key %q", key)
				return false
			}
			k := v3DenyKey{daily: f[1] == "d"}
			var err error
			if f[2] != "-" {
				if k.src, err = netip.ParseAddr(f[2]); err != nil {
					bad = fmt.Errorf("key %q: %w", key, err)
					return false
				}
			}
			b, err := strconv.ParseInt(f[3], 10, 32)
			if err != nil {
				bad = fmt.Errorf("key %q: %w", key, err)
				return false
			}
			h := uint8(0)
			k.day = int32(b)
			if !k.daily {
				k.day, h = int32(b/24), uint8(b%24)
			}
			var c [1]uint64
			parseVals(val, c[:])
			s := slot(k, h)
			if pfx == pfxDeny {
				proto, err1 := strconv.ParseUint(f[4], 10, 8)
				port, err2 := strconv.ParseUint(f[5], 10, 16)
				if err := errors.Join(err1, err2); err != nil {
					bad = fmt.Errorf("key %q: %w", key, err)
					return false
				}
				s.c[0] += c[0]
				s.peers = mergePacked(s.peers, []pentry{{proto: uint8(proto), port: uint16(port), v: [4]uint64{c[0]}}}, 1, 1<<30)
			} else {
				s.ports = mergePacked(s.ports, []pentry{{user: unesc(f[4]), v: [4]uint64{c[0]}}}, 1, 1<<30)
			}
			old = append(old, key)
			return true
		})
		if err == nil {
			err = bad
		}
		if err != nil {
			return 0, err
		}
	}
	for _, k := range old {
		if _, err := tx.Delete(k); err != nil {
			return 0, fmt.Errorf("delete %s: %w", k, err)
		}
	}
	fam := &dayFam{pfx: pfxDeny, nfA: 1, nfB: 1}
	var kb, vb []byte
	written := 0
	for k, v := range days {
		ttl := ret.Hourly
		if k.daily {
			ttl = ret.Daily
		}
		expAt := (int64(k.day)+1)*86400 + int64(ttl/time.Second)
		if expAt <= now {
			continue
		}
		kb = famPrefix(kb[:0], pfxDeny, k.daily)
		kb = appendAddr(kb, k.src)
		kb = append(kb, sep)
		kb = appendBucket(kb, k.day, true)
		vb = appendHostDay(vb[:0], v, fam)
		if _, _, err := tx.Set(string(kb), string(vb), &buntdb.SetOptions{Expires: true, TTL: time.Duration(expAt-now) * time.Second}); err != nil {
			return 0, fmt.Errorf("set %s: %w", kb, err)
		}
		written++
	}
	return written, nil
}

type v3TermKey struct {
	res    string // "h" or "d"
	field  string
	bucket int32
}

func migrateV3Terms(tx *buntdb.Tx, now int64, ret Retention) (int, error) {
	groups := make(map[v3TermKey]*[termShards][]pentry)
	var old []string
	var bad error
	err := tx.AscendKeys(pfxTerm+"|*", func(key, val string) bool {
		f := strings.Split(key, "|")
		if len(f) != 5 || f[1] != "h" && f[1] != "d" {
			bad = fmt.Errorf("unexpected schema-3 key %q", key)
			return false
		}
		b, err := strconv.ParseInt(f[3], 10, 32)
		if err != nil {
			bad = fmt.Errorf("key %q: %w", key, err)
			return false
		}
		es, err := decodePacked(val, nfTerm, nil)
		if err != nil {
			bad = fmt.Errorf("key %q: %w", key, err)
			return false
		}
		k := v3TermKey{res: f[1], field: f[2], bucket: int32(b)}
		g := groups[k]
		if g == nil {
			g = new([termShards][]pentry)
			groups[k] = g
		}
		for i := range es {
			sh := termShard(&es[i])
			g[sh] = mergePacked(g[sh], es[i:i+1], nfTerm, 1<<30)
		}
		old = append(old, key)
		return true
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return 0, err
	}
	for _, k := range old {
		if _, err := tx.Delete(k); err != nil {
			return 0, fmt.Errorf("delete %s: %w", k, err)
		}
	}
	var vb []byte
	written := 0
	for k, g := range groups {
		daily := k.res == "d"
		ttl, sec := ret.Hourly, int64(3600)
		if daily {
			ttl, sec = ret.Daily, 86400
		}
		expAt := (int64(k.bucket)+1)*sec + int64(ttl/time.Second)
		if expAt <= now {
			continue
		}
		for sh, es := range g {
			if len(es) == 0 {
				continue
			}
			key := fmt.Sprintf("%s|%s|%s|%s|%02d", pfxTerm, k.res, k.field, appendBucket(nil, k.bucket, daily), sh)
			vb = appendPacked(vb[:0], es, nfTerm)
			if _, _, err := tx.Set(key, string(vb), &buntdb.SetOptions{Expires: true, TTL: time.Duration(expAt-now) * time.Second}); err != nil {
				return 0, fmt.Errorf("set %s: %w", key, err)
			}
			written++
		}
	}
	return written, nil
}

// migrateV5 takes the buntdb TTL off every statistics key (Prune deletes them by the time in
// their key or value from now on) and keeps the data. Exemplar values gain their line's time,
// which schema 4 only held in the TTL: the TTL ran Retention.Exemplars from the line. Keys
// already past retention are deleted. Records keep their TTLs.
func migrateV5(tx *buntdb.Tx, now int64, ret Retention) (int, error) {
	type kv struct{ k, v string }
	var set []kv
	var del []string
	wall := time.Now()
	for _, p := range statsPrefixes {
		lo := p + string(sep)
		var err error
		err = tx.AscendRange("", lo, prefixEnd(lo), func(key, val string) bool {
			ttl, terr := tx.TTL(key)
			if terr != nil { // expired in buntdb's eyes, not yet deleted
				del = append(del, key)
				return true
			}
			if p == pfxEx {
				// Without a TTL the line's time is unknown: the store's clock, a full retention.
				ts := now
				if ttl >= 0 {
					ts = wall.Add(ttl).Unix() - int64(ret.Exemplars/time.Second)
				}
				set = append(set, kv{key, string(exemplarValue(nil, ts, val))})
				return true
			}
			if at, ok := expiresAt(key, val, ret); ok && at <= now {
				del = append(del, key)
				return true
			}
			if ttl >= 0 {
				set = append(set, kv{key, val})
			}
			return true
		})
		if err != nil {
			return 0, err
		}
	}
	for _, k := range del {
		if _, err := tx.Delete(k); err != nil && !errors.Is(err, buntdb.ErrNotFound) {
			return 0, fmt.Errorf("delete %s: %w", k, err)
		}
	}
	for _, x := range set {
		if _, _, err := tx.Set(x.k, x.v, nil); err != nil {
			return 0, fmt.Errorf("set %s: %w", x.k, err)
		}
	}
	return len(set) + len(del), nil
}
