package reconcile

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// hashKeyData is the key of the Secret entry holding the inventory's hash key.
const hashKeyData = "key"

// hashKeyName is the Secret holding the key that content hashes in this
// instance's records are keyed with.
func hashKeyName(instance string) string { return inventoryNamePrefix + instance + "-hash-key" }

// loadKey reads the key the records' content hashes are keyed with, creating
// it on first use. Records are ConfigMaps that many can read; an unkeyed hash
// of a Secret's content would let them test guesses of its value (issue 11).
func (inv *Inventory) loadKey(ctx context.Context) error {
	secrets := inv.applier.clientset.CoreV1().Secrets(inv.namespace)
	name := hashKeyName(inv.instance)
	for range 2 {
		s, err := secrets.Get(ctx, name, metav1.GetOptions{})
		if err == nil && len(s.Data[hashKeyData]) >= 32 {
			inv.key = s.Data[hashKeyData]
			return nil
		}
		if err == nil {
			return fmt.Errorf("Secret/%s/%s: %q holds no key of 32 bytes or more", inv.namespace, name, hashKeyData)
		}
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("Secret/%s/%s: get: %w", inv.namespace, name, err)
		}
		if inv.readOnly {
			inv.noKey = true // no record can have been written without it
			return nil
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		s = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: inv.namespace, Labels: map[string]string{LabelInstance: inv.instance}},
			Data:       map[string][]byte{hashKeyData: key},
		}
		_, err = secrets.Create(ctx, s, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) { // another replica won the race: read its key
			return fmt.Errorf("Secret/%s/%s: create: %w", inv.namespace, name, err)
		}
	}
	return fmt.Errorf("Secret/%s/%s: created but not readable", inv.namespace, name)
}

// keyed turns a content hash into what the records store: an HMAC with the
// inventory's key.
func (inv *Inventory) keyed(hash string) string {
	if hash == "" {
		return ""
	}
	m := hmac.New(sha256.New, inv.key)
	m.Write([]byte(hash))
	return hex.EncodeToString(m.Sum(nil)[:16])
}
