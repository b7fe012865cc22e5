#include <bitnet/runtime/graph/graph.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <random>
#include <vector>

namespace g = bitnet::graph;

namespace {

// plan() and bind() only store buffer pointers, so any distinct non-null address will do.
int buffer_tags[4];
bitnet_buffer* fake_buffer(int i) {
  return reinterpret_cast<bitnet_buffer*>(&buffer_tags[i]);
}

// A tensor made outside the graph, as model code might hand in.
bitnet_tensor outside_tensor(int64_t elems, bitnet_buffer* buffer, size_t offset) {
  bitnet_tensor t{};
  t.type = BITNET_TYPE_F32;
  t.ne[0] = elems, t.ne[1] = t.ne[2] = t.ne[3] = 1;
  t.nb[0] = 4, t.nb[1] = t.nb[2] = t.nb[3] = size_t(elems) * 4;
  t.buffer = buffer;
  t.offset = offset;
  t.name = nullptr;  // backend.h allows unnamed tensors
  return t;
}

bool overlap(const bitnet_tensor* a, size_t a_bytes, const bitnet_tensor* b, size_t b_bytes) {
  return a->offset < b->offset + b_bytes && b->offset < a->offset + a_bytes;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(graph_plan)

BOOST_AUTO_TEST_CASE(chain_reuses_memory_and_aligns) {
  g::Graph graph;
  const size_t bytes = 1000 * sizeof(float), aligned = 4032;  // 1000 floats, rounded up to 64
  std::vector<const bitnet_tensor*> chain{graph.input(BITNET_TYPE_F32, {1000}, "x")};
  for (int i = 0; i < 32; ++i)
    chain.push_back(graph.op(BITNET_OP_SCALE, {1000}, {chain.back()}, {0.5f}, "s"));
  BOOST_TEST(graph.nodes().size() == 32u);
  const size_t scratch = graph.plan(64);
  // An output may not alias its input and freed memory waits two nodes before it is reused
  // (fusing backends rely on it), so four are the floor; 33 would be no reuse at all.
  BOOST_TEST(scratch >= 4 * aligned);
  BOOST_TEST(scratch <= 5 * aligned);
  graph.bind(fake_buffer(0));
  for (size_t i = 0; i < chain.size(); ++i) {
    BOOST_TEST(chain[i]->buffer == fake_buffer(0));
    BOOST_TEST(chain[i]->offset % 64 == 0u);
    BOOST_TEST(chain[i]->offset + bytes <= scratch);
    if (i > 0) BOOST_TEST(!overlap(chain[i], bytes, chain[i - 1], bytes));
  }
}

BOOST_AUTO_TEST_CASE(marked_output_outlives_its_readers) {
  g::Graph graph;
  auto x = graph.input(BITNET_TYPE_F32, {256}, "x");
  auto a = graph.op(BITNET_OP_SCALE, {256}, {x}, {2.0f}, "a");
  auto b = graph.op(BITNET_OP_SCALE, {256}, {a}, {2.0f}, "b");
  auto c = graph.op(BITNET_OP_SCALE, {256}, {b}, {2.0f}, "c");
  auto d = graph.op(BITNET_OP_SCALE, {256}, {c}, {2.0f}, "d");
  graph.mark_output(graph.reshape(a, {16, 16}));  // through a view: still `a`'s memory
  graph.plan(16);
  graph.bind(fake_buffer(0));
  for (auto later : {b, c, d})
    BOOST_TEST(!overlap(a, 1024, later, 1024));
}

BOOST_AUTO_TEST_CASE(random_dags_never_overlap_live_tensors) {
  struct Root {
    const bitnet_tensor* t;
    size_t bytes;
    int first, last;  // node positions where it is written and last read; -1: before node 0
    bool output = false;
  };
  struct Ref {
    const bitnet_tensor* t;
    int root;       // into roots; -1 for memory placed before planning
    size_t offset;  // into the root's memory, or into `buffer` when there is no root
    bitnet_buffer* buffer = nullptr;
  };
  std::mt19937 rng(2024);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  for (int trial = 0; trial < 200; ++trial) {
    g::Graph graph;
    std::vector<Root> roots;
    std::vector<Ref> refs;
    bitnet_tensor outsider = outside_tensor(64, fake_buffer(1), 4096);
    refs.push_back({&outsider, -1, 4096, fake_buffer(1)});
    auto kv = graph.external(BITNET_TYPE_F32, {64, 8}, fake_buffer(2), 512, "kv");
    refs.push_back({kv, -1, 512, fake_buffer(2)});
    for (int i = 0, n = 1 + pick(3); i < n; ++i) {
      const int64_t elems = 1 + pick(300);
      auto t = graph.input(i ? BITNET_TYPE_F32 : BITNET_TYPE_I32, {elems}, "in");
      roots.push_back({t, size_t(elems) * 4, -1, -1});
      refs.push_back({t, int(roots.size()) - 1, 0});
    }
    for (int step = 0; step < 40; ++step) {
      const int pos = int(graph.nodes().size()), what = pick(20);
      const Ref r = refs[pick(int(refs.size()))];
      if (what < 3) {
        // A one-element view a few 4-byte steps into `r`; nothing reads past the end.
        const size_t room = r.root >= 0 ? roots[r.root].bytes - r.offset : 256;
        const size_t off = 4 * size_t(pick(int(std::max<size_t>(room / 4, 1))));
        refs.push_back({graph.view(r.t, {1}, {4, 4, 4, 4}, off), r.root, r.offset + off, r.buffer});
      } else if (what < 4) {
        graph.mark_output(r.t);
        if (r.root >= 0) roots[r.root].output = true;
      } else if (what < 5) {
        auto row = graph.view(kv, {64}, {4, 256, 256, 256}, 256 * size_t(pick(8)));
        auto into = graph.op_into(BITNET_OP_CPY, row, {r.t}, "store");
        if (r.root >= 0) roots[r.root].last = pos;
        refs.push_back({into, -1, row->offset, fake_buffer(2)});
      } else {
        const Ref r2 = refs[pick(int(refs.size()))];
        const int64_t elems = 1 + pick(300);
        const int32_t type = pick(2) ? BITNET_TYPE_F32 : BITNET_TYPE_F16;
        auto t = graph.op(BITNET_OP_ADD, {elems}, {r.t, r2.t}, {}, "n", type);
        for (int root : {r.root, r2.root})
          if (root >= 0) roots[root].last = pos;
        roots.push_back({t, size_t(elems) * (type == BITNET_TYPE_F32 ? 4 : 2), pos, pos});
        refs.push_back({t, int(roots.size()) - 1, 0});
      }
    }
    const size_t alignment = size_t(1) << pick(7);
    const size_t scratch = graph.plan(alignment);
    graph.bind(fake_buffer(0));
    BOOST_TEST_CONTEXT("trial " << trial << ", alignment " << alignment) {
      for (const Root& a : roots) {
        BOOST_REQUIRE(a.t->buffer == fake_buffer(0));
        BOOST_REQUIRE(a.t->offset % alignment == 0u);
        BOOST_REQUIRE(a.t->offset + a.bytes <= scratch);
      }
      for (size_t i = 0; i < roots.size(); ++i)
        for (size_t j = i + 1; j < roots.size(); ++j) {
          const Root &a = roots[i], &b = roots[j];
          const int a_end = a.output ? INT_MAX : std::max(a.first, a.last);
          const int b_end = b.output ? INT_MAX : std::max(b.first, b.last);
          const bool both_alive = a.first <= b_end && b.first <= a_end;
          BOOST_TEST_INFO("tensors " << i << " and " << j);
          BOOST_REQUIRE(!(both_alive && overlap(a.t, a.bytes, b.t, b.bytes)));
        }
      // Views (of views) of planned memory land on the base; everything else stays put.
      for (const Ref& r : refs) {
        BOOST_REQUIRE(r.t->buffer == (r.root >= 0 ? fake_buffer(0) : r.buffer));
        BOOST_REQUIRE_EQUAL(r.t->offset, r.offset + (r.root >= 0 ? roots[r.root].t->offset : 0));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(views_follow_their_base_after_bind) {
  g::Graph graph;
  auto x = graph.input(BITNET_TYPE_F32, {8, 4}, "x");
  auto v = graph.view(x, {4, 4}, {4, 32, 128, 128}, 16);
  auto vv = graph.view(v, {2}, {4, 8, 8, 8}, 4);
  auto r = graph.reshape(x, {32});
  BOOST_TEST(v->buffer == nullptr);  // nowhere to point until bind()
  BOOST_TEST(r->nb[1] == 128u);
  graph.op(BITNET_OP_SCALE, {32}, {r}, {1.0f}, "y");
  graph.plan(64);
  graph.bind(fake_buffer(0));
  BOOST_TEST(v->buffer == fake_buffer(0));
  BOOST_TEST(v->offset == x->offset + 16);
  BOOST_TEST(vv->offset == x->offset + 20);
  BOOST_TEST(r->offset == x->offset);
  BOOST_TEST(v->nb[1] == 32u);
}

BOOST_AUTO_TEST_CASE(external_and_outside_tensors_are_left_alone) {
  g::Graph graph;
  bitnet_tensor outsider = outside_tensor(16, fake_buffer(1), 1000);
  auto w = graph.external(BITNET_TYPE_F32, {16, 4}, fake_buffer(2), 128, "w");
  auto wv = graph.view(w, {16}, {4, 64, 64, 64}, 64);
  auto ov = graph.reshape(&outsider, {4, 4});
  BOOST_TEST(wv->buffer == fake_buffer(2));  // placed memory: known at once
  BOOST_TEST(wv->offset == 192u);
  BOOST_TEST(ov->buffer == fake_buffer(1));
  BOOST_TEST(ov->offset == 1000u);
  graph.op(BITNET_OP_ADD, {16}, {wv, ov}, {}, "sum");
  graph.op(BITNET_OP_MUL, {16}, {&outsider, w}, {}, "prod");
  graph.mark_output(&outsider);
  graph.mark_output(w);
  // Only the two 64-byte results need scratch; neither is read or kept, but the first's memory
  // is not reused by the node right after it.
  BOOST_TEST(graph.plan(64) == 128u);
  graph.bind(fake_buffer(0));
  BOOST_TEST(w->buffer == fake_buffer(2));
  BOOST_TEST(w->offset == 128u);
  BOOST_TEST(wv->offset == 192u);
  BOOST_TEST(ov->buffer == fake_buffer(1));
  BOOST_TEST(outsider.buffer == fake_buffer(1));
  BOOST_TEST(outsider.offset == 1000u);
}

BOOST_AUTO_TEST_CASE(op_into_keeps_the_target_place) {
  g::Graph graph;
  auto kv = graph.external(BITNET_TYPE_F16, {64, 8}, fake_buffer(2), 256, "kv");
  auto row = graph.view(kv, {64}, {2, 128, 128, 128}, 3 * 128);
  auto x = graph.input(BITNET_TYPE_F32, {64}, "x");
  auto store = graph.op_into(BITNET_OP_CPY, row, {x}, "store");
  BOOST_TEST(store->buffer == fake_buffer(2));
  BOOST_TEST(store->offset == 256u + 384u);
  BOOST_TEST(store->type == BITNET_TYPE_F16);
  BOOST_TEST(store->nb[1] == 128u);
  auto y = graph.op(BITNET_OP_SCALE, {64}, {store}, {1.0f}, "y");
  // The store needs no scratch; it is x's last reader, but y, right after it, may not take
  // x's bytes yet.
  BOOST_TEST(graph.plan(256) == 512u);
  graph.bind(fake_buffer(0));
  BOOST_TEST(store->buffer == fake_buffer(2));
  BOOST_TEST(store->offset == 640u);
  BOOST_TEST(y->buffer == fake_buffer(0));
  BOOST_TEST(graph.nodes().size() == 2u);
  BOOST_TEST(graph.nodes()[0] == store);
}

BOOST_AUTO_TEST_CASE(binding_the_same_buffer_again_still_places_new_tensors) {
  g::Graph graph;
  auto x = graph.input(BITNET_TYPE_F32, {16}, "x");
  auto a = graph.op(BITNET_OP_SCALE, {16}, {x}, {2.0f}, "a");
  graph.mark_output(a);
  graph.plan(64);
  graph.bind(fake_buffer(0));
  BOOST_TEST(a->buffer == fake_buffer(0));
  graph.bind(fake_buffer(0));  // a kept decode step binds its scratch every token
  BOOST_TEST(a->buffer == fake_buffer(0));
  // A node added and planned after the first bind must be placed by the next one, though the
  // buffer is the same.
  auto b = graph.op(BITNET_OP_SCALE, {16}, {a}, {3.0f}, "b");
  auto bv = graph.view(b, {8}, {4, 32, 32, 32}, 32);
  graph.mark_output(b);
  graph.plan(64);
  graph.bind(fake_buffer(0));
  BOOST_TEST(b->buffer == fake_buffer(0));
  BOOST_TEST(bv->buffer == fake_buffer(0));
  BOOST_TEST(bv->offset == b->offset + 32);
  BOOST_TEST(!overlap(a, 64, b, 64));
  graph.bind(fake_buffer(1));
  BOOST_TEST(a->buffer == fake_buffer(1));
  BOOST_TEST(bv->buffer == fake_buffer(1));
}

// backend.h's generation: a decode step's moves keep it (the cache row a CPY writes, the key
// count of ATTENTION's K and V with the stride of their extent-1 dimension); every other change
// draws a new one, and no two graphs share one.
BOOST_AUTO_TEST_CASE(generation_survives_only_the_moves_backend_h_allows) {
  g::Graph graph, other;
  BOOST_TEST(graph.generation() != 0u);
  BOOST_TEST(graph.generation() != other.generation());
  auto cache = graph.external(BITNET_TYPE_F16, {64, 2, 16}, fake_buffer(2), 0, "cache");
  const size_t row = 256;
  auto store_row = graph.view(cache, {64, 2, 1}, {2, 128, row, row}, 3 * row);
  auto keys = graph.view(cache, {64, 2, 4}, {2, 128, row, 4 * row}, 0);
  auto other_read = graph.view(cache, {64, 2, 4}, {2, 128, row, 4 * row}, 0);
  auto x = graph.input(BITNET_TYPE_F32, {64, 2}, "x");
  auto q = graph.input(BITNET_TYPE_F32, {64, 2}, "q");
  auto store = graph.op_into(BITNET_OP_CPY, store_row, {x}, "store");
  auto att = graph.op(BITNET_OP_ATTENTION, {64, 2}, {q, keys, keys, nullptr}, {1.0f}, "att");
  graph.op(BITNET_OP_SCALE, {64, 2, 4}, {other_read}, {1.0f}, "reader");
  graph.mark_output(att);
  graph.plan(64);
  graph.bind(fake_buffer(0));
  const uint64_t kept = graph.generation();
  graph.bind(fake_buffer(0));
  BOOST_TEST(graph.generation() == kept);
  // The next step: the store row one further, one key more.
  graph.move_view(store_row, {64, 2, 1}, {2, 128, row, row}, 4 * row);
  graph.follow_into(store);
  graph.move_view(keys, {64, 2, 5}, {2, 128, row, 5 * row}, 0);
  BOOST_TEST(graph.generation() == kept);
  BOOST_TEST(store->offset == 4 * row);
  // A read view moved, another extent changed, a stride that addresses elements changed, an
  // ATTENTION input that something else reads grown, a new buffer: each is a new generation.
  const auto changes = [&](auto&& change) {
    const uint64_t before = graph.generation();
    change();
    return graph.generation() != before;
  };
  BOOST_TEST(changes([&] { graph.move_view(keys, {64, 2, 5}, {2, 128, row, 5 * row}, row); }));
  BOOST_TEST(changes([&] { graph.move_view(keys, {64, 1, 5}, {2, 128, row, 5 * row}, row); }));
  BOOST_TEST(changes([&] { graph.move_view(keys, {64, 1, 5}, {2, 128, 2 * row, 5 * row}, row); }));
  BOOST_TEST(changes([&] { graph.move_view(other_read, {64, 2, 5}, {2, 128, row, 5 * row}, 0); }));
  BOOST_TEST(changes([&] { graph.move_view(store_row, {64, 1, 1}, {2, 128, row, row}, 0); }));
  BOOST_TEST(changes([&] { graph.follow_into(store); }));
  BOOST_TEST(changes([&] { graph.bind(fake_buffer(1)); }));
  BOOST_TEST(changes([&] { graph.op(BITNET_OP_SCALE, {64, 2}, {att}, {1.0f}, "more"); }));
  BOOST_TEST(changes([&] { graph.plan(64); }));
}

BOOST_AUTO_TEST_SUITE_END()
