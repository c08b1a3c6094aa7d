package certify.validators;

import java.io.File;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.verapdf.gf.foundry.VeraGreenfieldFoundryProvider;
import org.verapdf.pdfa.Foundries;
import org.verapdf.pdfa.PDFAParser;
import org.verapdf.pdfa.PDFAValidator;
import org.verapdf.pdfa.flavours.PDFAFlavour;
import org.verapdf.pdfa.results.ValidationResult;
import org.verapdf.pdfa.validation.profiles.Rule;
import org.verapdf.pdfa.validation.profiles.RuleId;
import org.verapdf.pdfa.validation.profiles.ValidationProfile;

/**
 * PDF/A-2b validation of a PDF with veraPDF's greenfield parser.
 *
 * <p>Usage: {@code VeraCheck <pdf>}. Prints one JSON object on stdout. Exit 0 whenever validation
 * ran, whatever the verdict; 2 on usage error, 1 on any other failure.
 */
public final class VeraCheck {
    private VeraCheck() {
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: VeraCheck <pdf>");
            System.exit(2);
        }
        PrintStream stdout = System.out;
        System.setOut(System.err); // keep stdout for the JSON alone
        try {
            String json = run(new File(args[0]));
            stdout.println(json);
            stdout.flush();
            System.exit(0);
        } catch (Exception e) {
            System.err.println("VeraCheck: " + e);
            System.exit(1);
        }
    }

    private static String run(File pdf) throws Exception {
        if (!pdf.isFile()) {
            throw new java.io.FileNotFoundException("no such PDF: " + pdf);
        }
        VeraGreenfieldFoundryProvider.initialise();
        PDFAFlavour flavour = PDFAFlavour.PDFA_2_B;
        ValidationResult result;
        try (PDFAParser parser = Foundries.defaultInstance().createParser(pdf, flavour);
                PDFAValidator validator = Foundries.defaultInstance().createValidator(flavour, false)) {
            result = validator.validate(parser);
        }
        ValidationProfile profile = result.getValidationProfile();
        List<Map.Entry<RuleId, Integer>> failed = new ArrayList<>(result.getFailedChecks().entrySet());
        failed.sort(Comparator.comparing((Map.Entry<RuleId, Integer> e) -> e.getKey().getClause())
                .thenComparingInt(e -> e.getKey().getTestNumber()));
        List<Object> rules = new ArrayList<>();
        for (Map.Entry<RuleId, Integer> e : failed) {
            RuleId id = e.getKey();
            Rule rule = profile == null ? null : profile.getRuleByRuleId(id);
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("specification", id.getSpecification() == null ? null : id.getSpecification().toString());
            item.put("clause", id.getClause());
            item.put("test", id.getTestNumber());
            item.put("description", rule == null ? null : rule.getDescription());
            item.put("count", e.getValue());
            rules.add(item);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("compliant", result.isCompliant());
        out.put("flavour", flavour.getId());
        out.put("job_end_status", result.getJobEndStatus() == null ? null : result.getJobEndStatus().toString());
        out.put("failed_rules", rules);
        return Json.write(out);
    }
}
