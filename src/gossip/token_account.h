// TokenAccount: the randomized token account of Danner & Jelasity, "Token account algorithms:
// the best of the proactive and reactive worlds" (ICDCS 2018), which paces a node's pushes.
//
// Each gossip interval the node either sends one model (proactive) or saves that interval's
// token; a received model may be passed on at once (reactive), paid for with saved tokens. A
// send that could not start gives its token back. So a node never sends more models than
// gossip intervals have passed: the average rate stays at most one model per interval, but an
// idle node saves up to react quickly when fresh models arrive.
//   PROACTIVE(a) = 0 if a < A - 1; (a - A + 1) / (C - A + 1) if A - 1 <= a <= C (so 1 at C)
//   REACTIVE(a)  = a / A, rounded at random to one of its two neighbouring integers
// with a the balance, C the capacity and A the reactivity (1 <= A <= C).
// Plain value; not thread-safe (the engine's io thread).
#pragma once

#include <random>

namespace gl::gossip {

inline constexpr int kMaxTokenCapacity = 1000;

class TokenAccount {
 public:
  // 1 <= reactivity <= capacity <= kMaxTokenCapacity (Options::Validate checks).
  TokenAccount(int capacity, int reactivity) : capacity_(capacity), reactivity_(reactivity) {}

  // At a gossip tick: true = send one model now; false = the tick's token was saved.
  bool OnTick(std::mt19937_64& rng);
  // On a received model: how many models to pass on; they are taken from the balance.
  int OnReceived(std::mt19937_64& rng);
  // A send that was due but could not start: its token goes back (never beyond capacity).
  void Refund();

  int balance() const { return balance_; }

 private:
  int capacity_;
  int reactivity_;
  int balance_ = 0;
};

}  // namespace gl::gossip
