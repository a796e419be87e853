package cluster

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// serviceIP is the first address of serviceCIDR, which the apiserver claims
// for the kubernetes Service and so must be in its serving certificate.
const (
	serviceCIDR = "10.96.0.0/16"
	serviceIP   = "10.96.0.1"
)

// keyPair is a PEM certificate and its PEM private key.
type keyPair struct {
	cert, key []byte
}

// pki is the throwaway trust for one cluster: a CA, the apiserver's serving
// pair, client pairs per identity, and the service-account signing key.
type pki struct {
	ca, apiserver                   keyPair
	admin, controllerMgr, scheduler keyPair
	saKey, saPub                    []byte
}

// newPKI generates every certificate and key a cluster needs.
func newPKI() (*pki, error) {
	caCert, caKey, ca, err := newCA()
	if err != nil {
		return nil, fmt.Errorf("pki: ca: %w", err)
	}
	p := &pki{ca: ca}
	issues := []struct {
		dst  *keyPair
		tmpl *x509.Certificate
	}{
		{&p.apiserver, servingTemplate()},
		{&p.admin, clientTemplate("tether-admin", "system:masters")},
		{&p.controllerMgr, clientTemplate("system:kube-controller-manager")},
		{&p.scheduler, clientTemplate("system:kube-scheduler")},
	}
	for _, is := range issues {
		if *is.dst, err = issue(is.tmpl, caCert, caKey); err != nil {
			return nil, fmt.Errorf("pki: %s: %w", is.tmpl.Subject.CommonName, err)
		}
	}
	if p.saKey, p.saPub, err = newServiceAccountKey(); err != nil {
		return nil, fmt.Errorf("pki: service-account key: %w", err)
	}
	return p, nil
}

// write stores the pki as PEM files in dir, named as pkiPaths expects.
func (p *pki) write(dir string) error {
	files := map[string][]byte{
		"ca.crt": p.ca.cert, "ca.key": p.ca.key,
		"apiserver.crt": p.apiserver.cert, "apiserver.key": p.apiserver.key,
		"sa.key": p.saKey, "sa.pub": p.saPub,
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return fmt.Errorf("pki: %w", err)
		}
	}
	return nil
}

func newCA() (*x509.Certificate, crypto.Signer, keyPair, error) {
	tmpl := baseTemplate("tether-e2e-ca")
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, keyPair{}, err
	}
	pair, err := sign(tmpl, tmpl, key, key)
	if err != nil {
		return nil, nil, keyPair{}, err
	}
	block, _ := pem.Decode(pair.cert)
	cert, err := x509.ParseCertificate(block.Bytes)
	return cert, key, pair, err
}

// issue makes a fresh P-256 key and a certificate for it signed by the CA.
func issue(tmpl, ca *x509.Certificate, caKey crypto.Signer) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, err
	}
	return sign(tmpl, ca, key, caKey)
}

func sign(tmpl, parent *x509.Certificate, key, parentKey crypto.Signer) (keyPair, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return keyPair{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return keyPair{}, err
	}
	return keyPair{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

func baseTemplate(cn string, orgs ...string) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
	}
}

func servingTemplate() *x509.Certificate {
	t := baseTemplate("kube-apiserver")
	t.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	t.IPAddresses = []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(serviceIP)}
	t.DNSNames = []string{"localhost", "kubernetes", "kubernetes.default",
		"kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	return t
}

func clientTemplate(cn string, orgs ...string) *x509.Certificate {
	t := baseTemplate(cn, orgs...)
	t.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return t
}

// newServiceAccountKey makes the RSA pair the apiserver signs tokens with and
// the controller-manager's token controller reads.
func newServiceAccountKey() (priv, pub []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	priv = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	pub = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	return priv, pub, nil
}
