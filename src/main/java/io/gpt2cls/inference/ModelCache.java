package io.gpt2cls.inference;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.jboss.logging.Logger;

/**
 * The models a process serves, by location, within a memory budget; each replaceable while
 * requests run. A request {@link #acquire}s the model of its location and holds it until it
 * finishes; {@link #put} makes a new model current for its location at once (later requests get it)
 * and the one it replaces is closed when its last request lets go, so no forward ever runs on freed
 * memory and no request sees two models.
 *
 * <p>Budget: the models held may together have at most {@code budgetBytes} of weights
 * ({@link TextClassifier#weightBytes()}). A {@link #put} over the budget evicts the least recently
 * acquired other models until the rest fits; the model just put always stays, so one model larger
 * than the budget is still served, alone. An evicted model is let go like a replaced one: requests
 * under way finish on it, then it is closed. (A replaced or evicted model that requests still hold
 * is over the budget until they finish; so is a model being loaded.)
 *
 * <p>Reference counting: a model starts with one reference, the cache's own; each lease adds one.
 * Replacing or evicting it drops the cache's reference, the last {@link Lease#close()} drops the
 * count to 0, which closes the model and runs its {@code onRetired} action (e.g. deleting its cached
 * files). A model is only leased while the cache holds it, so a count that reached 0 never rises again.
 */
public final class ModelCache implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ModelCache.class);

    private final long budgetBytes;
    /** The models held, by location; guarded by {@code this}. */
    private final Map<String, Held> held = new HashMap<>();
    /** Ticks at each acquire: a held model's {@code lastUsed} orders the evictions; guarded by {@code this}. */
    private long clock;

    /** A model and its reference count. */
    private static final class Held {
        final TextClassifier model;
        final Runnable onRetired;
        final AtomicInteger references = new AtomicInteger(1);
        long lastUsed;
        /** Why the cache let it go: replaced, evicted, stopping. */
        volatile String retiredBecause;

        Held(TextClassifier model, Runnable onRetired) {
            this.model = model;
            this.onRetired = onRetired;
        }

        /** Drops the cache's own reference. */
        void retire(String why) {
            retiredBecause = why;
            release();
        }

        void release() {
            if (references.decrementAndGet() == 0) {
                LOG.infof("closing model %s (version %s): %s, and its last request finished", model.location(), model.version(),
                        retiredBecause);
                model.close();
                onRetired.run();
            }
        }
    }

    /** One request's hold on a model; closing it lets the model go (once). */
    public static final class Lease implements AutoCloseable {
        private final Held held;
        private boolean closed;

        private Lease(Held held) {
            this.held = held;
        }

        public TextClassifier model() {
            return held.model;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                held.release();
            }
        }
    }

    /** @param budgetBytes the weights the models held may have together (see the class comment) */
    public ModelCache(long budgetBytes) {
        if (budgetBytes < 1) {
            throw new IllegalArgumentException("the model memory budget must be positive, got " + budgetBytes);
        }
        this.budgetBytes = budgetBytes;
    }

    /** A hold on the model held for {@code location}, or null when there is none. */
    public synchronized Lease acquire(String location) {
        Held model = held.get(location);
        if (model == null) {
            return null;
        }
        model.references.incrementAndGet(); // held here, so its count is at least the cache's own 1
        model.lastUsed = ++clock;
        return new Lease(model);
    }

    /**
     * The model held for {@code location}, to read its location and version only; run it under
     * {@link #acquire} (it may be closed any moment after this returns). Null when there is none.
     */
    public synchronized TextClassifier peek(String location) {
        Held model = held.get(location);
        return model == null ? null : model.model;
    }

    /** The models held now, least recently used first (to look for newer versions of each). */
    public synchronized List<TextClassifier> models() {
        return held.values().stream().sorted((a, b) -> Long.compare(a.lastUsed, b.lastUsed)).map(h -> h.model).toList();
    }

    /**
     * Makes {@code model} the one served for {@code location} (its {@link TextClassifier#location()});
     * the model it replaces, and any evicted to stay within the budget, are closed once no request
     * holds them.
     *
     * @param onRetired runs after {@code model} is closed, on the thread that let it go last
     */
    public void put(TextClassifier model, Runnable onRetired) {
        Held previous;
        List<Held> evicted = new ArrayList<>();
        synchronized (this) {
            Held added = new Held(model, onRetired);
            added.lastUsed = ++clock;
            previous = held.put(model.location(), added);
            long total = held.values().stream().mapToLong(h -> h.model.weightBytes()).sum();
            while (total > budgetBytes && held.size() > 1) {
                Held oldest = held.values().stream().filter(h -> h != added)
                        .min((a, b) -> Long.compare(a.lastUsed, b.lastUsed)).orElseThrow();
                held.remove(oldest.model.location());
                evicted.add(oldest);
                total -= oldest.model.weightBytes();
            }
        }
        if (previous != null) {
            previous.retire("replaced by version " + model.version());
        }
        for (Held old : evicted) {
            old.retire(String.format("evicted to keep the models within gpt2cls.classify.model-memory (%,d bytes)", budgetBytes));
        }
    }

    /** Empties the cache: each model is closed once no request holds it. */
    @Override
    public void close() {
        List<Held> all;
        synchronized (this) {
            all = List.copyOf(held.values());
            held.clear();
        }
        all.forEach(model -> model.retire("the service is stopping"));
    }
}
