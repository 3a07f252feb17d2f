package io.nfscsi.deploy;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric and label names a dashboard's PromQL expression uses, checked against what is exported. A small
 * tokenizer, not a PromQL parser: an identifier before {@code (} is a function or an aggregation (and must be one
 * that PromQL knows), an identifier inside {@code by (...)}, {@code without (...)}, {@code on (...)},
 * {@code ignoring (...)} or {@code group_left/right (...)} is a grouping label, one before a matcher operator inside
 * {@code {...}} is the preceding metric's label, ranges {@code [...]}, strings, numbers, Grafana variables and the
 * keywords are skipped, and every other identifier is a metric name.
 */
final class PromQueryNames {

    /** Labels that the scrape adds to every series (the Prometheus Operator's monitors set them from the target). */
    static final Set<String> TARGET_LABELS = Set.of("namespace", "pod", "container", "service", "endpoint", "job",
            "instance");

    private static final Set<String> FUNCTIONS = Set.of(
            // aggregation operators
            "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
            "quantile", "limitk", "limit_ratio",
            // functions
            "abs", "absent", "absent_over_time", "avg_over_time", "ceil", "changes", "clamp", "clamp_max",
            "clamp_min", "count_over_time", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "delta",
            "deriv", "exp", "floor", "histogram_avg", "histogram_count", "histogram_fraction", "histogram_quantile",
            "histogram_stddev", "histogram_stdvar", "histogram_sum", "holt_winters", "hour", "idelta", "increase",
            "irate", "label_join", "label_replace", "last_over_time", "ln", "log10", "log2", "mad_over_time",
            "max_over_time", "min_over_time", "minute", "month", "predict_linear", "present_over_time",
            "quantile_over_time", "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt",
            "stddev_over_time", "stdvar_over_time", "sum_over_time", "time", "timestamp", "vector", "year");
    private static final Set<String> GROUPING = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right");
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "atan2", "inf",
            "nan");
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\((.+),\\s*([a-zA-Z_]\\w*)\\s*\\)");

    /** A metric named in an expression, with the labels its matchers name. */
    record Selector(String metric, Set<String> matcherLabels) {
    }

    /** What an expression names: its selectors, and the labels of its grouping clauses. */
    record Names(List<Selector> selectors, Set<String> groupingLabels, List<String> unknownFunctions) {
    }

    private PromQueryNames() {
    }

    /**
     * The problems of {@code expr} against {@code exported} (sample name to its label names, as scraped): a metric
     * that is not exported, a matcher label that metric lacks, a grouping label that some metric of the expression
     * lacks, an unknown function. Empty when every name is exported.
     */
    static List<String> check(String expr, Map<String, Set<String>> exported) {
        List<String> problems = new ArrayList<>();
        Names names = names(expr);
        names.unknownFunctions().forEach(f -> problems.add("unknown function " + f + "()"));
        if (names.selectors().isEmpty()) {
            problems.add("names no metric");
        }
        for (Selector s : names.selectors()) {
            Set<String> labels = exported.get(s.metric());
            if (labels == null) {
                problems.add("metric " + s.metric() + " is not exported");
                continue;
            }
            for (String label : s.matcherLabels()) {
                if (!labels.contains(label) && !TARGET_LABELS.contains(label)) {
                    problems.add(s.metric() + " has no label " + label);
                }
            }
            for (String label : names.groupingLabels()) {
                if (!labels.contains(label) && !TARGET_LABELS.contains(label)) {
                    problems.add("grouping label " + label + " is not on " + s.metric());
                }
            }
        }
        return problems;
    }

    /**
     * The problems of a Grafana template variable's query: {@code label_values(selector, label)}, whose label must be
     * on the selector's metric; any other form is refused.
     */
    static List<String> checkVariable(String query, Map<String, Set<String>> exported) {
        Matcher m = LABEL_VALUES.matcher(query.strip());
        if (!m.matches()) {
            return List.of("not label_values(selector, label): " + query);
        }
        List<String> problems = new ArrayList<>(check(m.group(1), exported));
        for (Selector s : names(m.group(1)).selectors()) {
            Set<String> labels = exported.getOrDefault(s.metric(), Set.of());
            if (labels.contains(m.group(2)) || TARGET_LABELS.contains(m.group(2))) {
                continue;
            }
            problems.add(s.metric() + " has no label " + m.group(2));
        }
        return problems;
    }

    /** The names in {@code expr}. */
    static Names names(String expr) {
        List<String> tokens = tokens(expr);
        List<Selector> selectors = new ArrayList<>();
        Set<String> grouping = new LinkedHashSet<>();
        List<String> unknown = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i);
            if (!isIdentifier(t)) {
                if (t.equals("{")) {
                    Set<String> labels = new LinkedHashSet<>();
                    i = matchers(tokens, i, labels);
                    selectors.add(new Selector("{" + String.join(",", labels) + "} without a metric name", labels));
                }
                continue;
            }
            String next = i + 1 < tokens.size() ? tokens.get(i + 1) : "";
            if (GROUPING.contains(t)) {
                if (next.equals("(")) {
                    for (i += 2; i < tokens.size() && !tokens.get(i).equals(")"); i++) {
                        if (isIdentifier(tokens.get(i))) {
                            grouping.add(tokens.get(i));
                        }
                    }
                }
            } else if (FUNCTIONS.contains(t) && GROUPING.contains(next)) {
                continue; // an aggregation with its grouping first: sum by (x) (...)
            } else if (KEYWORDS.contains(t)) {
                continue; // offset's duration is dropped with the numbers
            } else if (next.equals("(")) {
                if (!FUNCTIONS.contains(t)) {
                    unknown.add(t);
                }
            } else {
                Set<String> labels = new LinkedHashSet<>();
                if (next.equals("{")) {
                    i = matchers(tokens, i + 1, labels);
                }
                selectors.add(new Selector(t, labels));
            }
        }
        return new Names(selectors, grouping, unknown);
    }

    /** Reads the matchers from the {@code {} at {@code open}; returns the index of the closing brace. */
    private static int matchers(List<String> tokens, int open, Set<String> labels) {
        int i = open + 1;
        for (; i < tokens.size() && !tokens.get(i).equals("}"); i++) {
            if (isIdentifier(tokens.get(i)) && i + 1 < tokens.size()
                    && Set.of("=", "!=", "=~", "!~").contains(tokens.get(i + 1))) {
                labels.add(tokens.get(i));
            }
        }
        return i;
    }

    private static boolean isIdentifier(String token) {
        char c = token.charAt(0);
        return Character.isLetter(c) || c == '_';
    }

    /**
     * Splits {@code expr} into identifiers, punctuation and operators; drops strings, numbers, ranges and
     * subqueries ({@code [...]}) and Grafana variables ({@code $name}, {@code ${name}}).
     */
    static List<String> tokens(String expr) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < expr.length()) {
            char c = expr.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '"' || c == '\'' || c == '`') {
                int end = i + 1;
                while (end < expr.length() && expr.charAt(end) != c) {
                    end += expr.charAt(end) == '\\' && c != '`' ? 2 : 1;
                }
                i = end + 1;
            } else if (c == '[') {
                int end = expr.indexOf(']', i);
                i = end < 0 ? expr.length() : end + 1;
            } else if (c == '$') {
                int end = i + 1;
                if (end < expr.length() && expr.charAt(end) == '{') {
                    end = Math.max(expr.indexOf('}', end), end) + 1;
                } else {
                    while (end < expr.length() && isWordChar(expr.charAt(end))) {
                        end++;
                    }
                }
                i = end;
            } else if (Character.isDigit(c) || c == '.' && i + 1 < expr.length()
                    && Character.isDigit(expr.charAt(i + 1))) {
                int end = i + 1;
                while (end < expr.length() && (isWordChar(expr.charAt(end)) || expr.charAt(end) == '.'
                        || (expr.charAt(end) == '+' || expr.charAt(end) == '-')
                        && Character.toLowerCase(expr.charAt(end - 1)) == 'e')) {
                    end++;
                }
                i = end;
            } else if (Character.isLetter(c) || c == '_') {
                int end = i + 1;
                while (end < expr.length() && (isWordChar(expr.charAt(end)) || expr.charAt(end) == ':')) {
                    end++;
                }
                out.add(expr.substring(i, end));
                i = end;
            } else if (i + 1 < expr.length() && Set.of("!=", "=~", "!~", "==", ">=", "<=")
                    .contains(expr.substring(i, i + 2))) {
                out.add(expr.substring(i, i + 2));
                i += 2;
            } else {
                out.add(String.valueOf(c));
                i++;
            }
        }
        return out;
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }
}
