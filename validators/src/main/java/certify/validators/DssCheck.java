package certify.validators;

import eu.europa.esig.dss.diagnostic.DiagnosticData;
import eu.europa.esig.dss.diagnostic.PDFRevisionWrapper;
import eu.europa.esig.dss.diagnostic.SignatureWrapper;
import eu.europa.esig.dss.diagnostic.TimestampWrapper;
import eu.europa.esig.dss.enumerations.Indication;
import eu.europa.esig.dss.enumerations.SignatureLevel;
import eu.europa.esig.dss.enumerations.SubIndication;
import eu.europa.esig.dss.jaxb.object.Message;
import eu.europa.esig.dss.model.FileDocument;
import eu.europa.esig.dss.simplereport.SimpleReport;
import eu.europa.esig.dss.simplereport.jaxb.XmlDetails;
import eu.europa.esig.dss.simplereport.jaxb.XmlMessage;
import eu.europa.esig.dss.simplereport.jaxb.XmlTimestamp;
import eu.europa.esig.dss.simplereport.jaxb.XmlToken;
import eu.europa.esig.dss.spi.validation.CommonCertificateVerifier;
import eu.europa.esig.dss.spi.x509.CommonTrustedCertificateSource;
import eu.europa.esig.dss.validation.SignedDocumentValidator;
import eu.europa.esig.dss.validation.reports.Reports;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Offline EU DSS validation of a signed PDF against one trusted root.
 *
 * <p>Usage: {@code DssCheck <pdf> <trusted-root.pem> <etsi-report-out.xml>}. Writes the ETSI TS
 * 119 102-2 validation report to the third argument and prints one JSON object on stdout. Exit 0
 * whenever validation ran, whatever the verdict; 2 on usage error, 1 on any other failure.
 */
public final class DssCheck {
    private DssCheck() {
    }

    public static void main(String[] args) {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        if (args.length != 3) {
            System.err.println("usage: DssCheck <pdf> <trusted-roots.pem> <etsi-report-out.xml>");
            System.exit(2);
        }
        PrintStream stdout = System.out;
        System.setOut(System.err); // keep stdout for the JSON alone
        try {
            String json = run(new File(args[0]), new File(args[1]), Path.of(args[2]));
            stdout.println(json);
            stdout.flush();
            System.exit(0);
        } catch (Exception e) {
            System.err.println("DssCheck: " + e);
            System.exit(1);
        }
    }

    private static String run(File pdf, File rootPem, Path reportOut) throws Exception {
        if (!pdf.isFile()) {
            throw new java.io.FileNotFoundException("no such PDF: " + pdf);
        }
        if (!rootPem.isFile()) {
            throw new java.io.FileNotFoundException("no such root certificate: " + rootPem);
        }
        // Every certificate in the PEM file is a trust anchor (the provincial root, and the
        // roots of imported certificates).
        CommonTrustedCertificateSource trusted = new CommonTrustedCertificateSource();
        try (java.io.InputStream in = new java.io.FileInputStream(rootPem)) {
            java.security.cert.CertificateFactory factory =
                    java.security.cert.CertificateFactory.getInstance("X.509");
            for (java.security.cert.Certificate cert : factory.generateCertificates(in)) {
                trusted.addCertificate(new eu.europa.esig.dss.model.x509.CertificateToken(
                        (java.security.cert.X509Certificate) cert));
            }
        }
        if (trusted.getCertificates().isEmpty()) {
            throw new IllegalArgumentException("no certificate in " + rootPem);
        }

        CommonCertificateVerifier verifier = new CommonCertificateVerifier();
        verifier.setAIASource(null);
        verifier.setOcspSource(null);
        verifier.setCrlSource(null);
        verifier.setTrustedCertSources(trusted);

        SignedDocumentValidator validator = SignedDocumentValidator.fromDocument(new FileDocument(pdf));
        validator.setCertificateVerifier(verifier);
        Reports reports = validator.validateDocument();

        Files.writeString(reportOut, reports.getXmlValidationReport(), StandardCharsets.UTF_8);
        // With CERTIFY_DSS_DIAGNOSTIC=path, DSS's diagnostic data too (what it saw in the file).
        String diagnosticOut = System.getenv("CERTIFY_DSS_DIAGNOSTIC");
        if (diagnosticOut != null && !diagnosticOut.isEmpty()) {
            Files.writeString(
                    Path.of(diagnosticOut), reports.getXmlDiagnosticData(), StandardCharsets.UTF_8);
        }

        SimpleReport simple = reports.getSimpleReport();
        DiagnosticData diagnostic = reports.getDiagnosticData();

        List<Object> signatures = new ArrayList<>();
        for (String id : simple.getSignatureIdList()) {
            Map<String, Object> sig = new LinkedHashMap<>();
            sig.put("id", id);
            SignatureWrapper wrapper = diagnostic.getSignatureById(id);
            sig.put("field", wrapper == null ? null : fieldName(wrapper.getPDFRevision()));
            sig.put("indication", name(simple.getIndication(id)));
            sig.put("sub_indication", name(simple.getSubIndication(id)));
            SignatureLevel format = simple.getSignatureFormat(id);
            sig.put("format", format == null ? null : format.toString());
            sig.put("signing_time", time(simple.getSigningTime(id)));
            sig.put("best_signature_time", time(simple.getBestSignatureTime(id)));
            sig.put("signed_by", simple.getSignedBy(id));
            sig.put("qualification", name(simple.getSignatureQualification(id)));
            sig.put("errors", messages(simple.getAdESValidationErrors(id)));
            sig.put("warnings", messages(simple.getAdESValidationWarnings(id)));
            sig.put("infos", messages(simple.getAdESValidationInfo(id)));
            sig.put("qualification_errors", messages(simple.getQualificationErrors(id)));
            sig.put("qualification_warnings", messages(simple.getQualificationWarnings(id)));
            sig.put("qualification_infos", messages(simple.getQualificationInfo(id)));
            List<Object> timestamps = new ArrayList<>();
            for (XmlTimestamp ts : simple.getSignatureTimestamps(id)) {
                timestamps.add(timestamp(ts, diagnostic));
            }
            sig.put("timestamps", timestamps);
            signatures.add(sig);
        }

        List<Object> documentTimestamps = new ArrayList<>();
        for (XmlToken token : simple.getJaxbModel().getSignatureOrTimestampOrEvidenceRecord()) {
            if (token instanceof XmlTimestamp ts) {
                documentTimestamps.add(timestamp(ts, diagnostic));
            }
        }

        Map<String, Object> result = new LinkedHashMap<>();
        result.put("validation_time", time(simple.getValidationTime()));
        result.put("signatures", signatures);
        result.put("document_timestamps", documentTimestamps);
        return Json.write(result);
    }

    private static Map<String, Object> timestamp(XmlTimestamp ts, DiagnosticData diagnostic) {
        Map<String, Object> out = new LinkedHashMap<>();
        String id = ts.getId();
        out.put("id", id);
        TimestampWrapper wrapper = id == null ? null : diagnostic.getTimestampById(id);
        out.put("type", wrapper == null || wrapper.getType() == null ? null : wrapper.getType().name());
        out.put("field", wrapper == null ? null : fieldName(wrapper.getPDFRevision()));
        out.put("indication", name(ts.getIndication()));
        out.put("sub_indication", name(ts.getSubIndication()));
        out.put("production_time", time(ts.getProductionTime()));
        out.put("produced_by", ts.getProducedBy());
        out.put("qualification", ts.getTimestampLevel() == null || ts.getTimestampLevel().getValue() == null
                ? null : ts.getTimestampLevel().getValue().name());
        XmlDetails ades = ts.getAdESValidationDetails();
        XmlDetails qual = ts.getQualificationDetails();
        out.put("errors", xmlMessages(ades == null ? null : ades.getError()));
        out.put("warnings", xmlMessages(ades == null ? null : ades.getWarning()));
        out.put("infos", xmlMessages(ades == null ? null : ades.getInfo()));
        out.put("qualification_errors", xmlMessages(qual == null ? null : qual.getError()));
        out.put("qualification_warnings", xmlMessages(qual == null ? null : qual.getWarning()));
        out.put("qualification_infos", xmlMessages(qual == null ? null : qual.getInfo()));
        return out;
    }

    private static String fieldName(PDFRevisionWrapper revision) {
        if (revision == null) {
            return null;
        }
        List<String> names = revision.getSignatureFieldNames();
        if (names == null || names.isEmpty()) {
            return null;
        }
        return String.join(",", names);
    }

    private static String name(Enum<?> value) {
        return value == null ? null : value.name();
    }

    private static String time(Date date) {
        return date == null ? null : date.toInstant().toString();
    }

    private static List<String> messages(List<Message> list) {
        List<String> out = new ArrayList<>();
        if (list != null) {
            for (Message m : list) {
                out.add(m.getValue());
            }
        }
        return out;
    }

    private static List<String> xmlMessages(List<XmlMessage> list) {
        List<String> out = new ArrayList<>();
        if (list != null) {
            for (XmlMessage m : list) {
                out.add(m.getValue());
            }
        }
        return out;
    }
}
